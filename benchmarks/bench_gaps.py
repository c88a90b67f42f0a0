"""Time the gap analysis on PostgreSQL, and print the figures.

  .venv/bin/python benchmarks/bench_gaps.py [--fresh] [--repeat 3]

Measures, on a database of its own (DATABASE_URL, default .../thrive_bench_gaps):
  1. one run for a site of 5,000 services (reading inputs, analysing, storing
     results), against the time of reading that site's services and offers from
     PostgreSQL in one query (target: under 2 s, and within 5x of that read);
  2. how the time of one run grows from 500 to 5,000 services (target: close to
     linear);
  3. 80 sites of 500 services run through one real Celery worker process on Redis
     (REDIS_URL, default redis://127.0.0.1:6379/14), from the first request to the
     last result.
Sites are kept between runs of the script unless --fresh.
"""

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from bench_pages import bench_data_create, database_ensure, site_delete, step  # noqa: E402

SIZES = (500, 1_000, 2_000, 5_000)
FLEET_SITES = 80
FLEET_SERVICES = 500
QUEUE = "bench-gaps"
TARGET_SECONDS = 2.0
TARGET_RATIO = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", action="store_true", help="drop and reload the benchmark sites first")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is reported (default 3)")
    parser.add_argument("--skip-fleet", action="store_true", help="skip the 80-site run through the worker")
    args = parser.parse_args()
    if not 1 <= args.repeat <= 20:
        parser.error("keep --repeat within 1..20")

    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thrive_bench_gaps")
    database_ensure(database_url)
    env = {
        "DJANGO_SETTINGS_MODULE": "thrive_site.settings.production",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    step("Migrating the benchmark database")
    call_command("migrate", "--no-input", verbosity=0)

    step("Loading benchmark sites (kept between runs unless --fresh)")
    for size in SIZES:
        sites_ensure([f"gaps-{size}"], size, fresh=args.fresh)
    if not args.skip_fleet:
        sites_ensure([f"fleet-{n:02d}" for n in range(1, FLEET_SITES + 1)], FLEET_SERVICES, fresh=args.fresh)

    step(f"Timing one run per size, median of {args.repeat}")
    rows = []
    for size in SIZES:
        run_seconds = statistics.median(time_one_run(f"gaps-{size}") for _ in range(args.repeat))
        read_seconds = statistics.median(time_one_read(f"gaps-{size}") for _ in range(args.repeat))
        rows.append((size, run_seconds, read_seconds))

    print()
    print(f"{'services':>9} {'one run (s)':>12} {'one-query read (s)':>19} {'run/read':>9} {'s per 1,000':>12}")
    for size, run_seconds, read_seconds in rows:
        print(
            f"{size:>9,} {run_seconds:>12.3f} {read_seconds:>19.3f} {run_seconds / read_seconds:>9.1f}"
            f" {run_seconds / size * 1000:>12.3f}"
        )
    small, large = rows[0], rows[-1]
    growth = large[1] / small[1]
    print(
        f"\nFrom {small[0]:,} to {large[0]:,} services ({large[0] / small[0]:.0f}x) one run took "
        f"{growth:.1f}x as long (linear would be {large[0] / small[0]:.0f}x)."
    )
    verdict = large[1] < TARGET_SECONDS and large[1] / large[2] <= TARGET_RATIO
    print(
        f"5,000 services: {large[1]:.3f} s (target < {TARGET_SECONDS} s), {large[1] / large[2]:.1f}x the one-query "
        f"read (target <= {TARGET_RATIO}x): {'met' if verdict else 'NOT met'}"
    )

    if not args.skip_fleet:
        fleet_seconds, per_run = time_fleet(env)
        print(
            f"\n{FLEET_SITES} sites of {FLEET_SERVICES} services through one worker: {fleet_seconds:.1f} s from the "
            f"first request to the last result; a run took {statistics.median(per_run):.3f} s (median), "
            f"{max(per_run):.3f} s at most."
        )
    return 0


def sites_ensure(slugs: list[str], size: int, *, fresh: bool) -> None:
    from django.db import connection, transaction

    from mapping.models import Service
    from sites.models import Site

    for number, slug in enumerate(slugs):
        site = Site.objects.filter(slug=slug).first()
        if site is not None and not fresh and Service.objects.filter(site=site).count() == size:
            continue
        with transaction.atomic():
            if site is not None:
                site_delete(site.pk)
            bench_data_create(slug=slug, services_count=size, organisations_count=max(size // 20, 10), seed=number)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def time_one_run(slug: str) -> float:
    from gaps.models import AnalysisRun, RunStatus, RunTrigger
    from gaps.services import run_execute
    from sites.models import Site

    site = Site.objects.get(slug=slug)
    run = AnalysisRun.objects.create(site=site, trigger=RunTrigger.PAGE)
    started = time.perf_counter()
    run_execute(run_id=run.pk)
    elapsed = time.perf_counter() - started
    assert AnalysisRun.objects.get(pk=run.pk).status == RunStatus.SUCCEEDED
    return elapsed


def time_one_read(slug: str) -> float:
    """The floor: every service and offer of the site, in one query."""
    from mapping.models import Offer
    from sites.models import Site

    site = Site.objects.get(slug=slug)
    started = time.perf_counter()
    rows = list(
        Offer.objects.filter(service__site=site, service__archived_at__isnull=True).values_list(
            "service__public_id",
            "service__name",
            "service__sector",
            "service__min_age",
            "service__max_age",
            "service__annual_capacity",
            "service__typical_wait_weeks",
            "service__status",
            "service__last_checked_on",
            "grouping__code",
            "capacity_share",
        )
    )
    elapsed = time.perf_counter() - started
    assert rows
    return elapsed


def time_fleet(env: dict[str, str]) -> tuple[float, list[float]]:
    from django.db import close_old_connections

    from gaps.models import AnalysisRun, RunStatus, RunTrigger
    from gaps.services import run_request
    from sites.models import Site
    from thrive_site.celery import app

    app.conf.task_default_queue = QUEUE
    OUT.mkdir(parents=True, exist_ok=True)
    log_path = OUT / "bench-gaps-worker.log"
    step(f"Starting one Celery worker process; log in {log_path.relative_to(ROOT)}")
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "celery"),
                "-A",
                "thrive_site",
                "worker",
                "--concurrency=1",
                f"--queues={QUEUE}",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"The worker did not start; see {log_path}")
        sites = list(Site.objects.filter(slug__startswith="fleet-").order_by("slug"))
        step(f"Requesting {len(sites)} runs")
        started = time.perf_counter()
        run_ids = [run_request(site=site, user=None, trigger=RunTrigger.NIGHTLY).run.pk for site in sites]
        deadline = time.monotonic() + 600
        while AnalysisRun.objects.filter(pk__in=run_ids, status=RunStatus.SUCCEEDED).count() < len(run_ids):
            if time.monotonic() > deadline:
                raise SystemExit("The runs did not finish within 10 minutes")
            if AnalysisRun.objects.filter(pk__in=run_ids, status=RunStatus.FAILED).exists():
                raise SystemExit("A run failed; see the admin or the worker log")
            time.sleep(0.2)
            close_old_connections()
        elapsed = time.perf_counter() - started
        per_run = [r.duration_seconds or 0.0 for r in AnalysisRun.objects.filter(pk__in=run_ids)]
        return elapsed, per_run
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


if __name__ == "__main__":
    raise SystemExit(main())
