"""A real Celery worker for the tests marked `worker`, loaded from conftest.py.

Each pytest process (each pytest-xdist worker too) starts its own Celery worker against
its own test database, with a queue of its own and its broker keys under a prefix of its
own. So parallel test processes, and test runs started side by side on one machine,
never take each other's tasks and never answer each other's pings, which the health
endpoint's Celery check would otherwise count.

The worker sees only committed rows, so tests that hand it data use
`@pytest.mark.django_db(transaction=True)`. Tasks are sent to it (not run eagerly)
only during the tests that use the fixture, so the order tests run in does not
change how the others queue tasks.
"""

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import kombu.pools
import pytest
from django.db import connection
from redis import Redis

from thrive_site.celery import app as celery_app

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = BASE_DIR / "test-artifacts"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 15

# Run instead of the `celery` script so the worker adopts the key prefix (the first
# argument) before it connects; no setting or environment variable carries
# broker transport options.
WORKER_MAIN = """
import sys
from thrive_site.celery import app
key_prefix, *argv = sys.argv[1:]
app.conf.broker_transport_options = {**app.conf.broker_transport_options, "global_keyprefix": key_prefix}
app.worker_main(argv)
"""


@dataclasses.dataclass(frozen=True)
class CeleryWorker:
    queue: str
    nodename: str
    key_prefix: str
    log_path: Path


def _test_database_url() -> str:
    """DATABASE_URL with its database name swapped for the test database pytest-django
    created, keeping credentials, host and options."""
    if connection.vendor != "postgresql":
        pytest.fail("The Celery worker fixture needs PostgreSQL: a worker process cannot see an SQLite test database.")
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


def _use_broker_options(options: dict[str, Any]) -> None:
    celery_app.conf.broker_transport_options = options
    _forget_broker_connections()


def point_broker_at(url: str) -> None:
    """Send this process's tasks and broadcasts to another broker address (a test
    points it at a port where nothing listens to play Redis being down)."""
    celery_app.conf.broker_url = url
    _forget_broker_connections()


def _forget_broker_connections() -> None:
    """Close every pooled broker connection of this process so the next publish or
    broadcast connects afresh, with the current address and options.

    kombu keeps connection and producer pools in a registry keyed by address and
    options, and the app's pool is that registry's entry: closing it without clearing
    the registry leaves a closed pool that comes back ("Acquire on closed pool") as
    soon as the options are the same again, for example when a test's own worker
    hands back to the session's worker.
    """
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _delete_broker_keys(key_prefix: str) -> None:
    # Queue bindings outlive the worker; without this each run leaves a few keys behind.
    with Redis.from_url(celery_app.conf.broker_url) as client:
        keys = list(client.scan_iter(match=f"{key_prefix}*"))
        if keys:
            client.delete(*keys)


def _log_tail(log_path: Path, lines: int = 80) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is not None:
        return
    # SIGTERM is Celery's warm shutdown: it finishes the current task and closes its
    # database connections, so pytest-django can drop the test database afterwards.
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_answering(process: "subprocess.Popen[bytes]", worker: CeleryWorker) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while process.poll() is None:
        if celery_app.control.ping(destination=[worker.nodename], timeout=0.5, limit=1):
            return
        if time.monotonic() > deadline:
            _stop(process)
            pytest.fail(
                f"The Celery worker {worker.nodename} did not answer a ping within {START_TIMEOUT_SECONDS} s. "
                f"Its log ({worker.log_path}) ends:\n{_log_tail(worker.log_path)}",
                pytrace=False,
            )
    pytest.fail(
        f"The Celery worker {worker.nodename} exited with status {process.returncode} before answering a ping. "
        f"Its log ({worker.log_path}) ends:\n{_log_tail(worker.log_path)}",
        pytrace=False,
    )


def _worker_command(worker: CeleryWorker) -> list[str]:
    return [
        sys.executable,
        "-c",
        WORKER_MAIN,
        worker.key_prefix,
        "worker",
        "--pool=solo",
        "--concurrency=1",
        f"--queues={worker.queue}",
        f"--hostname={worker.nodename}",
        # No chatter with other workers: startup is faster and nothing crosses over.
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
    ]


def _spawn(worker: CeleryWorker) -> "subprocess.Popen[bytes]":
    """Starts a worker subprocess on the test database and waits until it answers."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "thrive_site.settings.test",
        "DATABASE_URL": _test_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    with worker.log_path.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603
            _worker_command(worker), cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    _wait_until_answering(process, worker)
    return process


@contextlib.contextmanager
def _routed_to(worker: CeleryWorker) -> Iterator[None]:
    """Points this process's Celery app at the worker's queue and key prefix."""
    saved_options = dict(celery_app.conf.broker_transport_options)
    saved_queue = celery_app.conf.task_default_queue
    _use_broker_options({**saved_options, "global_keyprefix": worker.key_prefix})
    celery_app.conf.task_default_queue = worker.queue
    try:
        yield
    finally:
        celery_app.conf.task_default_queue = saved_queue
        _use_broker_options(saved_options)
        _delete_broker_keys(worker.key_prefix)


def _worker_named(name: str) -> CeleryWorker:
    queue = f"tests-{name}-{os.getpid()}"
    return CeleryWorker(
        queue=queue,
        nodename=f"{queue}@{socket.gethostname()}",
        key_prefix=f"{queue}:",
        log_path=ARTIFACTS_DIR / f"celery-worker-{name}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log",
    )


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: Any) -> Iterator[CeleryWorker]:
    """Starts a Celery worker subprocess for this test process, points this process's
    Celery app at it (its queue and its key prefix) and stops it at the end of the
    session."""
    worker = _worker_named("session")
    with _routed_to(worker):
        process = _spawn(worker)
        try:
            yield worker
        finally:
            _stop(process)


class KillableWorker:
    """A worker of a test's own, which the test may kill (SIGKILL, as when a machine
    dies) and start again on the same queue."""

    def __init__(self, worker: CeleryWorker) -> None:
        self.worker = worker
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = _spawn(self.worker)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)


@pytest.fixture
def killable_worker(django_db_setup: Any) -> Iterator[KillableWorker]:
    handle = KillableWorker(_worker_named(f"killable-{uuid.uuid4().hex[:6]}"))
    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    with _routed_to(handle.worker):
        try:
            handle.start()
            yield handle
        finally:
            handle.stop()
            celery_app.conf.task_always_eager = saved_eager


@pytest.fixture(autouse=True)
def _tasks_go_to_the_worker(request: pytest.FixtureRequest) -> Iterator[None]:
    """Turns eager execution off for the tests that use the worker, and only for them."""
    if "celery_worker_process" not in request.fixturenames:
        yield
        return
    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved_eager
