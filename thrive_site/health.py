"""Health endpoint for load balancers and docker compose: database and cache, and,
when a broker is configured, Redis and at least one live Celery worker."""

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from health_check.views import HealthCheckView


def health_checks() -> list[Any]:
    checks: list[Any] = ["health_check.checks.Database", "health_check.checks.Cache"]
    if settings.REDIS_URL:
        from redis.asyncio import Redis

        checks += [
            ("health_check.contrib.redis.Redis", {"client_factory": lambda: Redis.from_url(settings.REDIS_URL)}),
            ("health_check.contrib.celery.Ping", {"limit": 1, "timeout": datetime.timedelta(seconds=3)}),
        ]
    return checks


health_view = login_not_required(HealthCheckView.as_view(checks=health_checks()))
