"""The platform under the product: settings for each environment, the health endpoint
with a real Celery worker, sign-in lockout and the password policy."""

import datetime
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from tests.celery_worker import CeleryWorker
from tests.factories import PASSWORD, UserFactory
from thrive_site.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs manage.py in a fresh process with exactly `env` (plus PATH), so nothing
    from this test process or the developer's shell leaks into the settings."""
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production_env() -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "thrive_site.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": os.environ["REDIS_URL"],
    }


def variables_read_by_settings() -> set[str]:
    source = "\n".join(path.read_text() for path in (BASE_DIR / "thrive_site" / "settings").glob("*.py"))
    return set(re.findall(r"\benv(?:\.[a-z_]+)?\(\s*[\"']([A-Z][A-Z0-9_]*)[\"']", source))


def sign_in(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def test_production_settings_pass_the_deploy_check_without_warnings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output
    assert "System check identified no issues" in output


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    env = production_env()
    del env["SECRET_KEY"]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_env_example_documents_every_variable_the_settings_read() -> None:
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", (BASE_DIR / ".env.example").read_text(), re.MULTILINE))
    read = variables_read_by_settings()

    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read
    assert read - documented == set()


def test_with_nothing_set_the_product_runs_on_sqlite_with_tasks_run_in_process() -> None:
    script = (
        "import json; from django.conf import settings; from thrive_site.celery import app; "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
        "'setting_eager': settings.CELERY_TASK_ALWAYS_EAGER, 'app_eager': app.conf.task_always_eager}))"
    )

    result = manage("shell", "-c", script, env={"DJANGO_SETTINGS_MODULE": "thrive_site.settings.local"})

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed == {"engine": "django.db.backends.sqlite3", "setting_eager": True, "app_eager": True}


@pytest.mark.worker
@pytest.mark.django_db
def test_health_reports_every_check_ok_in_json_when_worker_redis_and_database_are_up(
    celery_worker_process: CeleryWorker,
) -> None:
    response = Client().get(reverse("health"), headers={"accept": "application/json"})

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    checks = response.json()
    assert set(checks.values()) == {"OK"}
    names = " ".join(checks)
    for expected in ("Database", "Cache", "Redis", "Ping"):
        assert expected in names


@pytest.mark.worker
@pytest.mark.django_db
def test_health_is_reachable_without_signing_in(celery_worker_process: CeleryWorker) -> None:
    response = Client().get(reverse("health"))

    assert response.status_code == 200


@pytest.mark.worker
def test_during_worker_tests_tasks_are_sent_to_this_process_own_worker(celery_worker_process: CeleryWorker) -> None:
    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.task_default_queue == celery_worker_process.queue
    replies = celery_app.control.ping(timeout=2)
    assert [list(reply) for reply in replies] == [[celery_worker_process.nodename]]


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account_so_even_the_right_password_is_refused(
    client: Client, settings: Settings
) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="river")

    for _ in range(4):
        assert sign_in(client, "river", "not-the-password").status_code == 200
    fifth = sign_in(client, "river", "not-the-password")
    sixth = sign_in(client, "river", PASSWORD)

    for locked_out in (fifth, sixth):
        assert locked_out.status_code == 429
        assert "registration/locked_out.html" in [t.name for t in locked_out.templates]
        assert "Too many failed sign-in attempts" in locked_out.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_locked_out_user_can_sign_in_again_once_the_cool_off_has_passed(client: Client, settings: Settings) -> None:
    settings.AXES_FAILURE_LIMIT = 5
    user = UserFactory(username="river")
    for _ in range(5):
        sign_in(client, "river", "not-the-password")
    assert sign_in(client, "river", PASSWORD).status_code == 429

    cool_off = settings.AXES_COOLOFF_TIME + datetime.timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - cool_off)
    response = sign_in(client, "river", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse(settings.LOGIN_REDIRECT_URL)
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_eleven_character_password_is_rejected_for_being_shorter_than_twelve() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_password("Tulip-Road9")

    assert any("12 characters" in message for message in excinfo.value.messages)


def test_a_long_uncommon_password_is_accepted() -> None:
    validate_password("quiet-lantern-over-the-moor")
