"""Latency of the register, matrix and overview pages for one site of 5,000 services.

Run from the repository root:  .venv/bin/python benchmarks/bench_pages.py

It creates (if missing) and migrates a PostgreSQL database, loads a benchmark site,
starts gunicorn with the production settings on a free port of 127.0.0.1, signs in
as the site's commissioner, times a bounded number of sequential requests per page and
prints p50/p95/max. gunicorn is stopped at the end, also on error. See README.md.
"""

import argparse
import http.client
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
VENV_BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/thrive_bench"

SITE_SLUG = "bench"
SERVICES = 5_000
ORGANISATIONS = 250
BATCH_SIZE = 1_000
USERNAME = "bench-commissioner"
TARGET_P95_MS = 150.0


@dataclass(frozen=True)
class Page:
    label: str
    path: str


PAGES = [
    Page("service list, page 1", f"/sites/{SITE_SLUG}/services/"),
    Page(
        "service list, filtered",
        f"/sites/{SITE_SLUG}/services/?grouping=getting-help&sector=nhs&age=12&ordering=-wait",
    ),
    Page("service list, search", f"/sites/{SITE_SLUG}/services/?q=counselling"),
    Page("matrix, page 1", f"/sites/{SITE_SLUG}/matrix/"),
    Page("matrix, page 100", f"/sites/{SITE_SLUG}/matrix/?page=100"),
    Page("overview", f"/sites/{SITE_SLUG}/"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per page (default 20)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--fresh", action="store_true", help="drop and reload the benchmark site first")
    parser.add_argument("--strict", action="store_true", help=f"exit 2 if any p95 is over {TARGET_P95_MS:.0f} ms")
    args = parser.parse_args()
    if not 1 <= args.requests <= 2_000 or not 0 <= args.warmup <= 200:
        parser.error("keep --requests within 1..2000 and --warmup within 0..200")

    OUT.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    database_ensure(database_url)

    workdir = Path(tempfile.mkdtemp(prefix="thrive-bench-"))
    try:
        return run(args, database_url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, database_url: str, workdir: Path) -> int:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "thrive_site.settings.production",
        # Collected files go to a temporary directory, not the checkout.
        "STATIC_ROOT": str(workdir / "static"),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
    }
    step("Migrating the benchmark database")
    manage(env, "migrate", "--no-input", "-v0")
    step("Collecting static files into a temporary directory")
    manage(env, "collectstatic", "--no-input", "-v0")

    # Django is set up in this process with the same settings as gunicorn, to load
    # data, create the session and count each page's queries.
    os.environ.update(env)
    sys.path[:0] = [str(ROOT)]
    import django

    django.setup()

    step(f"Loading a site of {SERVICES:,} services")
    started = time.perf_counter()
    loaded = bench_data_ensure(fresh=args.fresh)
    print(f"    {loaded} in {time.perf_counter() - started:.1f} s")
    session_key = session_create()
    queries = {page.label: count_queries(page.path) for page in PAGES}

    port = free_port()
    log_path = OUT / "gunicorn.log"
    step(f"Starting gunicorn ({args.workers} workers) on 127.0.0.1:{port}; log in {log_path.relative_to(ROOT)}")
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "thrive_site.wsgi",
                "-w",
                str(args.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            wait_until_up(port, server)
            client = PageClient(port, session_key)
            results = [measure(client, page, args.warmup, args.requests) for page in PAGES]
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    print_table(results, queries, args)
    failed = [r for r in results if r.error]
    for result in failed:
        print(f"\n{result.page.label}: {result.error}\nSee {log_path} for the server's traceback.")
    if failed:
        return 1
    if args.strict and any(r.p95 > TARGET_P95_MS for r in results):
        return 2
    return 0


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([str(VENV_BIN / "python"), "manage.py", *command], cwd=ROOT, env=env, check=True)


def database_ensure(database_url: str) -> None:
    """Create the benchmark database if the server does not have it yet."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            step(f"Creating database {name}")
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def bench_data_ensure(*, fresh: bool) -> str:
    """One site of SERVICES services, written with bulk_create (no history records:
    the pages read current data only). Kept between runs unless `fresh`."""
    from django.db import connection, transaction

    from mapping.models import Service
    from sites.models import Site

    site = Site.objects.filter(slug=SITE_SLUG).first()
    if site is not None and not fresh and Service.objects.filter(site=site).count() == SERVICES:
        return "already loaded"
    with transaction.atomic():
        if site is not None:
            site_delete(site.pk)
        bench_data_create()
    with connection.cursor() as cursor:
        # Fresh statistics, as autovacuum would have gathered on a live database.
        cursor.execute("ANALYZE")
    return "loaded"


def site_delete(site_id: int) -> None:
    """Delete with plain SQL: the ORM would write a history record per row."""
    from django.db import connection

    statements = [
        "DELETE FROM mapping_offer WHERE service_id IN (SELECT id FROM mapping_service WHERE site_id = %s)",
        "DELETE FROM mapping_service_delivery_settings"
        " WHERE service_id IN (SELECT id FROM mapping_service WHERE site_id = %s)",
        "DELETE FROM mapping_service_referral_routes"
        " WHERE service_id IN (SELECT id FROM mapping_service WHERE site_id = %s)",
        "DELETE FROM mapping_service_areas WHERE service_id IN (SELECT id FROM mapping_service WHERE site_id = %s)",
        "DELETE FROM mapping_service WHERE site_id = %s",
        "DELETE FROM mapping_organisation WHERE site_id = %s",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, [site_id])
    from sites.models import Site

    Site.objects.filter(pk=site_id).delete()


WORDS = [
    "counselling",
    "wellbeing",
    "family",
    "support",
    "youth",
    "anxiety",
    "parenting",
    "school",
    "mentoring",
    "therapy",
    "crisis",
    "bereavement",
    "peer",
    "outreach",
]


def bench_data_create(
    *, slug: str = SITE_SLUG, services_count: int = SERVICES, organisations_count: int = ORGANISATIONS, seed: int = 2026
) -> None:
    """A site with a register of `services_count` services (also used by bench_gaps.py)."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from mapping.models import Area, DeliverySetting, Grouping, Offer, Organisation, ReferralRoute, Sector, Service
    from mapping.models import ServiceStatus as Status
    from sites.models import AgeBand, Membership, Role, Site, SitePopulation

    rng = random.Random(seed)
    site = Site.objects.create(name=f"Benchmark {slug}", slug=slug, region="London")
    SitePopulation.objects.bulk_create(
        SitePopulation(site=site, age_band=band, people=rng.randint(40_000, 90_000)) for band in AgeBand
    )
    areas = Area.objects.bulk_create(Area(site=site, name=f"District {n}") for n in range(1, 9))
    sectors = list(Sector.values)
    organisations = Organisation.objects.bulk_create(
        (
            Organisation(site=site, name=f"Provider {n:03d}", sector=rng.choice(sectors))
            for n in range(1, organisations_count + 1)
        ),
        batch_size=BATCH_SIZE,
    )
    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"first_name": "Bench", "last_name": "Mark"})
    Membership.objects.update_or_create(user=user, site=site, defaults={"role": Role.COMMISSIONER})

    today = timezone.localdate()
    statuses = [Status.ACTIVE] * 17 + [Status.PLANNED, Status.PAUSED, Status.DECOMMISSIONED]
    services = []
    for n in range(1, services_count + 1):
        organisation = rng.choice(organisations)
        low = rng.randint(0, 16)
        words = rng.sample(WORDS, 2)
        services.append(
            Service(
                site=site,
                organisation=organisation,
                name=f"{words[0].title()} {words[1]} service {n:04d}",
                description=f"{words[0].title()} and {words[1]} for children, young people and families. " * 3,
                sector=organisation.sector,
                min_age=low,
                max_age=rng.randint(low, 25),
                annual_capacity=rng.choice([None, rng.randint(10, 3000)]),
                typical_wait_weeks=rng.choice([None, rng.randint(0, 40)]),
                status=rng.choice(statuses),
                last_checked_on=today - timedelta(days=rng.randint(0, 700)),
                last_checked_by=user,
            )
        )
    services = Service.objects.bulk_create(services, batch_size=BATCH_SIZE)

    delivery_settings = list(DeliverySetting.objects.all())
    routes = list(ReferralRoute.objects.all())
    groupings = list(Grouping.objects.all())
    setting_rows, route_rows, area_rows, offers = [], [], [], []
    for service in services:
        setting_rows += [
            Service.delivery_settings.through(service_id=service.pk, deliverysetting_id=s.pk)
            for s in rng.sample(delivery_settings, rng.randint(1, 3))
        ]
        route_rows += [
            Service.referral_routes.through(service_id=service.pk, referralroute_id=r.pk)
            for r in rng.sample(routes, rng.randint(1, 3))
        ]
        area_rows += [
            Service.areas.through(service_id=service.pk, area_id=a.pk) for a in rng.sample(areas, rng.randint(1, 2))
        ]
        chosen = rng.sample(groupings, rng.choice([1, 2, 2, 2, 3]))
        for grouping in chosen:
            share = rng.randint(10, 100 // len(chosen))
            offers.append(
                Offer(service=service, grouping=grouping, capacity_share=share, description=f"{grouping.label} offer")
            )
    Service.delivery_settings.through.objects.bulk_create(setting_rows, batch_size=BATCH_SIZE)
    Service.referral_routes.through.objects.bulk_create(route_rows, batch_size=BATCH_SIZE)
    Service.areas.through.objects.bulk_create(area_rows, batch_size=BATCH_SIZE)
    Offer.objects.bulk_create(offers, batch_size=BATCH_SIZE)


def session_create() -> str:
    """A signed-in session for the commissioner, stored where gunicorn will read it.

    Production cookies are Secure, so no client would send them over plain http;
    the benchmark sends the Cookie header itself instead of signing in by form.
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    user = User.objects.get(username=USERNAME)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return session.session_key


def count_queries(path: str) -> int | None:
    """Database queries one request makes, measured in this process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1", headers={"X-Forwarded-Proto": "https"})
    client.force_login(User.objects.get(username=USERNAME))
    with CaptureQueriesContext(connection) as captured:
        try:
            response = client.get(path)
        except Exception:  # noqa: BLE001 - the timed run reports the failure with the server's traceback
            return None
    return len(captured.captured_queries) if response.status_code == 200 else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(port: int, server: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {server.returncode}; see {OUT / 'gunicorn.log'}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s")


class PageClient:
    def __init__(self, port: int, session_key: str) -> None:
        self.port = port
        self.headers = {
            "Host": "127.0.0.1",
            "Cookie": f"sessionid={session_key}",
            # Tells SecurityMiddleware the request came through an HTTPS proxy.
            "X-Forwarded-Proto": "https",
            "User-Agent": "thrive-bench",
        }

    def get(self, path: str) -> tuple[int, float, int]:
        """Status, milliseconds to the last byte and body size. One connection per
        request, as gunicorn's sync workers close each connection."""
        started = time.perf_counter()
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", path, headers=self.headers)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return response.status, (time.perf_counter() - started) * 1000, len(body)


@dataclass
class Result:
    page: Page
    timings: list[float]
    size: int = 0
    error: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.timings) if self.timings else float("nan")

    @property
    def p95(self) -> float:
        if len(self.timings) < 2:
            return self.timings[0] if self.timings else float("nan")
        return statistics.quantiles(self.timings, n=20, method="inclusive")[18]

    @property
    def max(self) -> float:
        return max(self.timings) if self.timings else float("nan")


def measure(client: PageClient, page: Page, warmup: int, count: int) -> Result:
    status, _, _ = client.get(page.path)
    if status != 200:
        return Result(page, [], error=f"GET {page.path} answered {status}, expected 200")
    for _ in range(warmup):
        client.get(page.path)
    timings: list[float] = []
    size = 0
    for _ in range(count):
        status, elapsed, size = client.get(page.path)
        if status != 200:
            return Result(page, timings, size, error=f"GET {page.path} answered {status} during the run")
        timings.append(elapsed)
    return Result(page, timings, size)


def cpu_reference_ms() -> float:
    """A fixed pure-Python loop, timed: how fast this machine is right now, so figures
    from different machines (or a busy host) can be set side by side."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sum(range(10_000_000))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def print_table(results: list[Result], queries: dict[str, int | None], args: argparse.Namespace) -> None:
    print(
        f"\n{SERVICES:,} services, {args.workers} gunicorn workers, {args.warmup} warm-up + "
        f"{args.requests} timed sequential requests per page (target p95 < {TARGET_P95_MS:.0f} ms)"
    )
    print(f"CPU reference: sum(range(10**7)) takes {cpu_reference_ms():.0f} ms on this machine now\n")
    header = f"{'page':<24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'queries':>8} {'KB':>6}  "
    print(header)
    print("-" * len(header))
    for result in results:
        count = queries.get(result.page.label)
        flag = "" if result.error or result.p95 < TARGET_P95_MS else "over target"
        if result.error:
            flag = "FAILED"
        print(
            f"{result.page.label:<24} {result.p50:>8.1f} {result.p95:>8.1f} {result.max:>8.1f} "
            f"{count if count is not None else '-':>8} {result.size / 1024:>6.0f}  {flag}"
        )


if __name__ == "__main__":
    sys.exit(main())
