"""Nothing stuck, and one "created": without a worker (tasks run in-process, as in the
embedded mode), a run left running or queued by a server killed mid-run is sent
again (or failed once it has used up its attempts) as soon as the site asks about
its runs; and of simultaneous requests for a run, exactly one is told it is new."""

import importlib
import os
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from gaps import services as gap_services
from gaps.models import AnalysisRun, RunStatus, RunTrigger
from mapping.models import Grouping
from sites.models import AgeBand, Site, SitePopulation
from tests.factories import OfferFactory, ServiceFactory


def small_site(site: Site, groupings: dict[str, Grouping]) -> None:
    for band, people in zip(AgeBand, (1000, 2000, 2000, 900, 1500), strict=True):
        SitePopulation.objects.create(site=site, age_band=band.value, people=people)
    service = ServiceFactory(site=site, name="Help service", annual_capacity=100)
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=100)


def left_running(site: Site, *, attempts: int = 1, silent_for: timedelta | None = None) -> AnalysisRun:
    """A run whose server was killed mid-run: running, its last heartbeat long ago."""
    since = timezone.now() - (silent_for or gap_services.REQUEUE_RUNNING_AFTER + timedelta(seconds=5))
    return AnalysisRun.objects.create(
        site=site,
        trigger=RunTrigger.PAGE,
        status=RunStatus.RUNNING,
        attempts=attempts,
        progress=40,
        progress_message="Comparing provision with need",
        started_at=since,
        heartbeat_at=since,
        enqueued_at=since,
    )


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def runs_url(site: Site) -> str:
    return reverse("api-site-detail", kwargs={"site_slug": site.slug}) + "gap-runs/"


@pytest.mark.django_db
def test_a_run_left_running_by_a_killed_server_is_carried_out_when_the_gap_analysis_page_is_opened(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    small_site(site_a, groupings)
    run = left_running(site_a)
    html = client_for(commissioner_a).get(reverse("gaps:gaps-home", kwargs={"site_slug": site_a.slug})).content
    run.refresh_from_db()
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)
    assert "The gap analysis is running" not in html.decode()
    assert "Improvements, in the site's order" in html.decode()


@pytest.mark.django_db
def test_a_run_left_queued_by_a_killed_server_is_carried_out_when_the_api_lists_the_runs(
    commissioner_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    small_site(site_a, groupings)
    # Killed between saving the run and sending it to the job service.
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.API)
    AnalysisRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - gap_services.REQUEUE_QUEUED_AFTER - timedelta(seconds=5)
    )
    body = api(commissioner_a).get(runs_url(site_a)).json()
    assert [(r["id"], r["status"]) for r in body["results"]] == [(str(run.public_id), "succeeded")]


@pytest.mark.django_db
def test_a_run_that_used_up_its_attempts_is_failed_and_a_new_one_can_start(
    commissioner_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    small_site(site_a, groupings)
    stuck = left_running(site_a, attempts=gap_services.MAX_ATTEMPTS)
    client = api(commissioner_a)
    detail = client.get(runs_url(site_a) + f"{stuck.public_id}/").json()
    assert detail["status"] == "failed"
    assert detail["error"] == f"Gave up after {gap_services.MAX_ATTEMPTS} attempts without finishing."
    response = client.post(runs_url(site_a))
    assert response.status_code == 202
    assert response.json()["run"]["id"] != str(stuck.public_id)


@pytest.mark.django_db
def test_asking_for_a_run_while_one_is_stuck_recovers_it_instead_of_saying_in_progress_forever(
    commissioner_a: User, site_a: Site, groupings: dict[str, Grouping], django_capture_on_commit_callbacks: Any
) -> None:
    small_site(site_a, groupings)
    stuck = left_running(site_a)
    client = api(commissioner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(runs_url(site_a))
    assert response.status_code == 200  # no second run: the stuck one was sent again
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts) == (RunStatus.SUCCEEDED, 2)
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(runs_url(site_a))
    assert again.status_code == 202
    assert AnalysisRun.objects.filter(site=site_a).count() == 2


@pytest.mark.django_db
def test_a_run_whose_worker_is_still_sending_heartbeats_is_left_alone(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    working = left_running(site_a, silent_for=timedelta(seconds=30))
    html = client_for(commissioner_a).get(reverse("gaps:gaps-home", kwargs={"site_slug": site_a.slug})).content
    working.refresh_from_db()
    assert (working.status, working.attempts) == (RunStatus.RUNNING, 1)
    assert "The gap analysis is running" in html.decode()


# With transactions committed, as a real server commits them ----------------------------------


def seed_prevalence() -> None:
    """Transactional tests flush the tables the migrations seeded; put the survey back."""
    importlib.import_module("gaps.migrations.0002_seed_prevalence").seed(django_apps, None)


def database_url_for_tests() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


@pytest.mark.django_db(transaction=True)
def test_a_run_that_finished_before_the_page_came_back_says_its_results_are_shown(
    commissioner_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    seed_prevalence()
    small_site(site_a, groupings)
    client = Client()
    client.force_login(commissioner_a)
    # In-process tasks (the embedded mode) carry the run out before the answer.
    html = client.post(reverse("gaps:run-request", kwargs={"site_slug": site_a.slug}), follow=True).content.decode()
    assert AnalysisRun.objects.get(site=site_a).status == RunStatus.SUCCEEDED
    assert gap_services.FINISHED_MESSAGE in html
    assert "progress is shown below" not in html


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_requests_for_a_run_tell_exactly_one_caller_it_is_new(
    commissioner_a: User, site_a: Site, groupings: dict[str, Grouping]
) -> None:
    seed_prevalence()
    small_site(site_a, groupings)
    url_page = reverse("gaps:run-request", kwargs={"site_slug": site_a.slug})
    clients: list[Client | APIClient] = []
    for number in range(8):
        client = APIClient() if number % 2 else Client()
        client.force_login(commissioner_a)
        clients.append(client)
    told_new: list[bool] = []
    done = threading.Semaphore(0)
    start = threading.Barrier(len(clients))

    def ask(client: Client | APIClient) -> None:
        try:
            start.wait()
            if isinstance(client, APIClient):
                told_new.append(client.post(runs_url(site_a)).status_code == 202)
            else:
                banner = client.post(url_page, follow=True).content.decode()
                told_new.append("The gap analysis has started" in banner or gap_services.FINISHED_MESSAGE in banner)
        finally:
            connection.close()
            done.release()

    # Hold the new run where it reads the register, so it is still in progress
    # however the eight requests interleave.
    with psycopg.connect(database_url_for_tests()) as register_lock:
        register_lock.execute("LOCK TABLE mapping_offer IN ACCESS EXCLUSIVE MODE")
        threads = [threading.Thread(target=ask, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        # Seven answer while the run waits; the eighth (the one that made it, which
        # carries it out in-process) answers once the lock goes.
        for _ in range(len(clients) - 1):
            assert done.acquire(timeout=30)
        time.sleep(0.2)
        register_lock.rollback()
    for thread in threads:
        thread.join(timeout=30)
    assert len(told_new) == 8
    assert told_new.count(True) == 1
    assert AnalysisRun.objects.filter(site=site_a).count() == 1
    assert AnalysisRun.objects.get(site=site_a).status == RunStatus.SUCCEEDED
