"""The gap analysis as Celery jobs on Redis with a real worker: a run is carried out
once, survives a worker killed mid-run and a broker that is down when it is asked
for, and a second delivery of the same run changes nothing."""

import os
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from redis import Redis

from accounts.models import User
from gaps import services as gap_services
from gaps.models import AnalysisRun, Gap, Improvement, RunStatus, RunTrigger
from gaps.tasks import run_analysis
from sites.models import AgeBand, Site, SitePopulation
from tests.celery_worker import CeleryWorker, KillableWorker, point_broker_at
from tests.factories import OfferFactory, ServiceFactory
from thrive_site.celery import app as celery_app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FINISH_TIMEOUT = 30.0


def wait_for(predicate: Any, timeout: float = FINISH_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def run_status(run: AnalysisRun) -> str:
    return AnalysisRun.objects.values_list("status", flat=True).get(pk=run.pk)


def small_site(site: Site, groupings: dict[str, Any]) -> None:
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.create(site=site, age_band=band.value, people=people)
    for number in range(6):
        service = ServiceFactory(site=site, name=f"Service {number}", annual_capacity=100 + number)
        OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60)
        OfferFactory(service=service, grouping=groupings["thriving"], capacity_share=40)


def queue_drained(worker: CeleryWorker) -> bool:
    with Redis.from_url(celery_app.conf.broker_url) as client:
        return client.llen(f"{worker.key_prefix}{worker.queue}") == 0 and not client.hlen(f"{worker.key_prefix}unacked")


def test_a_requested_run_is_carried_out_by_the_worker(
    celery_worker_process: CeleryWorker, site_a: Site, commissioner_a: User, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    request = gap_services.run_request(site=site_a, user=commissioner_a, trigger=RunTrigger.PAGE)
    assert request.enqueued
    assert wait_for(lambda: run_status(request.run) == RunStatus.SUCCEEDED), run_status(request.run)
    run = AnalysisRun.objects.get(pk=request.run.pk)
    assert run.progress == 100
    assert run.attempts == 1
    assert run.inputs is not None
    assert run.inputs["services"]["count"] == 6
    assert run.gaps.filter(key="no-service:getting-risk-support").exists()
    assert run.improvements.exists()


def test_the_same_run_delivered_twice_leaves_one_set_of_results(
    celery_worker_process: CeleryWorker, site_a: Site, commissioner_a: User, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    request = gap_services.run_request(site=site_a, user=commissioner_a, trigger=RunTrigger.API)
    # Two more deliveries of the same run, one while it may still be running.
    run_analysis.delay(request.run.pk)
    assert wait_for(lambda: run_status(request.run) == RunStatus.SUCCEEDED)
    gaps = sorted(Gap.objects.filter(run=request.run).values_list("key", "severity"))
    finished_at = AnalysisRun.objects.get(pk=request.run.pk).finished_at
    run_analysis.delay(request.run.pk)
    assert wait_for(lambda: queue_drained(celery_worker_process))
    time.sleep(0.5)
    run = AnalysisRun.objects.get(pk=request.run.pk)
    assert sorted(Gap.objects.filter(run=run).values_list("key", "severity")) == gaps
    assert Improvement.objects.filter(run=run).count() == len(set(run.improvements.values_list("key", flat=True)))
    assert run.finished_at == finished_at


def test_a_run_whose_worker_is_killed_mid_run_finishes_exactly_once(
    killable_worker: KillableWorker, site_a: Site, commissioner_a: User, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_database = urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))
    # Hold the results table so the worker stops at the point of saving, mid-run.
    with psycopg.connect(test_database) as blocker:
        blocker.execute("LOCK TABLE gaps_gap IN ACCESS EXCLUSIVE MODE")
        request = gap_services.run_request(site=site_a, user=commissioner_a, trigger=RunTrigger.PAGE)
        assert wait_for(lambda: AnalysisRun.objects.get(pk=request.run.pk).progress == 80)
        time.sleep(0.3)
        killable_worker.kill()
        blocker.rollback()
    run = AnalysisRun.objects.get(pk=request.run.pk)
    assert run.status == RunStatus.RUNNING
    assert not run.gaps.exists()

    killable_worker.start()
    later = timezone.now() + gap_services.REQUEUE_RUNNING_AFTER + timedelta(seconds=1)
    assert wait_for(lambda: gap_services.runs_sweep(now=later) == [request.run.pk], timeout=10)
    assert wait_for(lambda: run_status(request.run) == RunStatus.SUCCEEDED)
    run = AnalysisRun.objects.get(pk=request.run.pk)
    assert run.attempts == 2
    keys = list(run.gaps.values_list("key", flat=True))
    assert keys and len(keys) == len(set(keys))


def test_a_run_requested_while_redis_is_down_answers_quickly_and_is_not_lost(
    celery_worker_process: CeleryWorker, site_a: Site, commissioner_a: User, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    working_broker = celery_app.conf.broker_url
    point_broker_at("redis://127.0.0.1:1/0")  # nothing listens there: Redis is down
    try:
        started = time.monotonic()
        request = gap_services.run_request(site=site_a, user=commissioner_a, trigger=RunTrigger.PAGE)
        elapsed = time.monotonic() - started
    finally:
        point_broker_at(working_broker)
    assert elapsed < 5
    assert not request.enqueued
    assert "cannot be reached" in request.message
    run = AnalysisRun.objects.get(pk=request.run.pk)
    assert run.status == RunStatus.QUEUED
    assert run.enqueue_error

    later = timezone.now() + gap_services.REQUEUE_QUEUED_AFTER + timedelta(seconds=1)
    assert gap_services.runs_sweep(now=later) == [run.pk]
    assert wait_for(lambda: run_status(run) == RunStatus.SUCCEEDED)


def test_a_run_cut_off_by_a_postgresql_restart_is_retried_and_finishes(
    celery_worker_process: CeleryWorker, site_a: Site, commissioner_a: User, groupings: dict[str, Any]
) -> None:
    small_site(site_a, groupings)
    parts = urlsplit(os.environ["DATABASE_URL"])
    test_database = urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))
    with psycopg.connect(test_database) as blocker:
        blocker.execute("LOCK TABLE gaps_gap IN ACCESS EXCLUSIVE MODE")
        request = gap_services.run_request(site=site_a, user=commissioner_a, trigger=RunTrigger.PAGE)
        assert wait_for(lambda: AnalysisRun.objects.get(pk=request.run.pk).progress == 80)
        # What a PostgreSQL restart does to the worker mid-run: its session is cut off.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
                [blocker.info.backend_pid],
            )
            (cut,) = cursor.fetchone()
        assert cut >= 1
        blocker.rollback()
    assert wait_for(lambda: run_status(request.run) == RunStatus.SUCCEEDED), run_status(request.run)
    run = AnalysisRun.objects.get(pk=request.run.pk)
    assert run.attempts == 2
    assert run.gaps.exists()
