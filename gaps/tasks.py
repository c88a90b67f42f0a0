"""Celery entry points for the gap analysis: thin wrappers that take ids and call
gaps.services. Time limits sit well inside the broker's visibility timeout."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    name="gaps.run_analysis",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=5,
    soft_time_limit=services.RUN_SOFT_TIME_LIMIT_SECONDS,
    time_limit=services.RUN_TIME_LIMIT_SECONDS,
)
def run_analysis(run_id: int) -> None:
    services.run_execute(run_id=run_id)


@shared_task(name="gaps.sweep_runs", soft_time_limit=60, time_limit=90)
def sweep_runs() -> int:
    return len(services.runs_sweep())


@shared_task(name="gaps.nightly_runs", soft_time_limit=300, time_limit=330)
def nightly_runs() -> int:
    return services.runs_request_nightly()
