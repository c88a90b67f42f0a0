"""Every URL pattern x persona x method, from the URL resolver: no cross-site access, no
write by anyone who only reads, and never a server error.

The routes come from django.urls.get_resolver(), so a new route is walked without
editing this file; its parameters are filled from a world of real objects of site A
(thrive_site/tests/world.py). A parameter this file cannot fill fails the walk with a
message saying where to add it, rather than leaving the route out.

Each persona's walk is one test on a fresh world:
- GET, HEAD, OPTIONS, POST, PUT, PATCH and DELETE to every route; the /api/ routes
  once with the session and once with an API token. The bodies are real: the form a
  page shows (read as a browser would post it) and the JSON the API shows, with the
  ETag it sent in If-Match, so a refusal is the access rule at work, not a bad body.
- The commissioner of site B also tries every route with a site B address and site A's
  objects (/sites/<b>/services/<a service of A>/...).
- Nothing is a 5xx. The commissioner of B and anonymous get nothing of site A (404,
  405, 401/403 or a redirect to sign in for anonymous), and no response to them shows
  site A's data (its canary text). Nobody but site A's commissioner changes anything:
  every table is compared before and after (row counts and a hash of the rows), and
  each request's own inserts, updates and deletes are read from PostgreSQL's
  per-transaction statistics, so a write is traced to the request that made it.
- The commissioner of A writes; each of their requests is rolled back so the next one
  finds the world as it was, and their GETs must all find something (never a 404),
  which shows the world fills every route with a real object.

The counts are written to test-artifacts/route-walk/<persona>.json.
"""

import json
import logging
import re
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.authtoken.models import Token

from accounts.models import User
from sites.models import Site
from thrive_site.health import health_view
from thrive_site.tests.world import SiteWorld, World, instrument_world, password_reset_world, site_world

pytestmark = pytest.mark.django_db

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "route-walk"
METHODS = ("get", "head", "options", "post", "put", "patch", "delete")
# The admin serves GET and POST only, and only to staff, which no one walking is.
ADMIN_METHODS = ("get", "post")
CHANGES = ("put", "patch", "delete")
# Sessions are how a signed-in person is remembered: signing out deletes one, and a
# page may store a message in one. Neither is site data.
NOT_SITE_DATA = {"django_session"}
CANARY_A = "Canary-Alpha"
CANARY_B = "Canary-Bravo"

# How far each persona may get with site A's data.
OWNER = "commissioner_a"
READERS = ("viewer_a", "reviewer", "reviewer_commissioning_a")
OUTSIDERS = ("commissioner_b", "anonymous")
PERSONAS = (OWNER, *READERS, *OUTSIDERS)


# Routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One URL pattern, with the full pattern text from the root."""

    text: str
    name: str | None
    namespace: str
    params: tuple[str, ...]

    @property
    def is_api(self) -> bool:
        return self.text.startswith("api/")

    @property
    def is_admin(self) -> bool:
        return self.namespace == "admin"

    @property
    def site_scoped(self) -> bool:
        return "site_slug" in self.params

    @property
    def object_params(self) -> list[str]:
        """The parameters naming an object of a site by its public id (not a code every site shares)."""
        return re.findall(r"<uuid:(\w+)>", self.text)

    @property
    def holds_an_object(self) -> bool:
        return bool(self.object_params)

    def __str__(self) -> str:
        return f"/{self.text}" + (f" ({self.name})" if self.name else "")


_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<group>\w+)>[^)]*\)|\([^)]*\)")


def routes() -> list[Route]:
    """Every URL pattern the resolver knows, includes followed."""
    found: list[Route] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> None:
        for entry in patterns:
            text = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = ":".join(part for part in (namespace, entry.namespace) if part)
                walk(entry.url_patterns, text, inner)
            else:
                params = tuple(m["name"] or m["group"] or "" for m in _PARAM.finditer(text))
                name = ":".join(part for part in (namespace, entry.name) if part) if entry.name else None
                found.append(Route(text=text, name=name, namespace=namespace, params=params))

    walk(get_resolver().url_patterns, "", "")
    return found


def parameter_value(route: Route, name: str, side: SiteWorld, world: World) -> str:
    """The value of a URL parameter, from the world (World.parameter says what each holds)."""
    if route.is_admin:
        # Nobody walking is staff: the admin turns them away before it reads any of these.
        return {"app_label": "mapping", "url": "nowhere/"}.get(name, "1")
    before = route.text.split(f":{name}>")[0].split(f"<{name}>")[0]
    return world.parameter(name, after=before.rsplit("<", 1)[0], side=side, where=str(route))


def url_for(route: Route, values: dict[str, str]) -> str:
    if route.name and not route.is_admin:
        return reverse(route.name, kwargs=values)
    # Unnamed and regex patterns (the admin's): put the values in the pattern's text.
    names = iter(route.params)
    return "/" + _PARAM.sub(lambda _: values[next(names)], route.text).replace("^", "").replace("$", "")


@dataclass(frozen=True)
class Target:
    route: Route
    url: str
    # The same URL with site A's values, where a body and an ETag were read.
    probe_url: str
    kind: str  # "site-a", "b-a" (site B's address, site A's objects), "admin" or "global"
    # For "b-a": the same address with objects that exist nowhere, which must be answered alike.
    ghost_url: str | None = None


def targets(world: World, *, mixed: bool) -> list[Target]:
    found = []
    for route in routes():
        a_values = {name: parameter_value(route, name, world.a, world) for name in route.params}
        a_url = url_for(route, a_values)
        kind = "admin" if route.is_admin else "site-a" if route.site_scoped else "global"
        found.append(Target(route, a_url, a_url, kind))
        if mixed and route.site_scoped and route.holds_an_object:
            b_values = {**a_values, "site_slug": world.b.site.slug}
            nowhere = {**b_values, **{name: str(uuid.uuid4()) for name in route.object_params}}
            found.append(Target(route, url_for(route, b_values), a_url, "b-a", url_for(route, nowhere)))
    return found


# Personas and requests ----------------------------------------------------------------------


def signed_in(client: Client, user: User) -> None:
    """Sign the client in without the sign-in signal, whose bookkeeping (last login,
    the access log) would count as writes by the persona."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = store.session_key


@dataclass
class Persona:
    name: str
    user: User | None
    page: Client
    token: Client | None

    def keep_signed_in(self, response: HttpResponse) -> None:
        """Signing out is a route like any other; the walk goes on signed in."""
        if self.user is not None and settings.SESSION_COOKIE_NAME in response.cookies:
            signed_in(self.page, self.user)


def persona(name: str, user: User | None) -> Persona:
    page = Client(raise_request_exception=False)
    token_client = None
    if user is not None:
        signed_in(page, user)
        key = Token.objects.create(user=user).key
        token_client = Client(raise_request_exception=False, headers={"Authorization": f"Token {key}"})
    return Persona(name=name, user=user, page=page, token=token_client)


@dataclass
class Probe:
    """What site A's commissioner reads at each URL: the bodies and ETags to send back."""

    forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    json: dict[str, Any] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    """Every form on a page posting somewhere, with what a browser would send."""

    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: dict[str, dict[str, list[str]]] = {}
        self._fields: dict[str, list[str]] | None = None
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urlsplit(a.get("action") or self.page_url).path or self.page_url
            if a.get("method", "get").lower() == "post" and action not in self.forms:
                self._fields = self.forms[action] = {}
            return
        fields = self._fields
        if fields is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            fields.setdefault(name, []).append("")
        elif tag == "select" and name:
            self._select = name
            self._first_option = True
        elif tag == "option" and self._select:
            # A select sends its selected option, or its first when none is marked.
            if "selected" in a:
                fields[self._select] = [a.get("value", "")]
            elif self._first_option:
                fields.setdefault(self._select, []).append(a.get("value", ""))
            self._first_option = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._fields = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._fields is not None:
            current = self._fields[self._textarea][-1]
            self._fields[self._textarea][-1] = current + (data[1:] if not current and data.startswith("\n") else data)


def read_forms(html: str, page_url: str) -> dict[str, dict[str, Any]]:
    reader = _Forms(page_url)
    reader.feed(html)
    return {
        action: {name: values[0] if len(values) == 1 else values for name, values in fields.items()}
        for action, fields in reader.forms.items()
    }


def representation(data: Any) -> Any:
    """One resource as a GET shows it: the first of a list or a page of results."""
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, list):
        return data[0] if data else {}
    return data


@dataclass
class Walk:
    persona: str
    requests: int = 0
    routes: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    findings: list[str] = field(default_factory=list)


def send(
    who: Persona, method: str, target: Target, probe: Probe, *, token: bool, url: str | None = None
) -> HttpResponse:
    url = url or target.url
    client = who.token if token and who.token is not None else who.page
    headers: dict[str, str] = {}
    if method in CHANGES and target.probe_url in probe.etags:
        headers["If-Match"] = probe.etags[target.probe_url]
    if target.route.is_api:
        body = probe.json.get(target.probe_url, {}) if method in ("post", "put", "patch") else None
        if body is None:
            return getattr(client, method)(url, headers=headers)
        return getattr(client, method)(url, json.dumps(body), content_type="application/json", headers=headers)
    if method == "post":
        return client.post(url, probe.forms.get(target.probe_url, {}), headers=headers)
    return getattr(client, method)(url, headers=headers)


def server_error(response: HttpResponse) -> str:
    exc_info = getattr(response, "exc_info", None)
    if not exc_info:
        return ""
    frames = traceback.extract_tb(exc_info[2])
    ours = [f for f in frames if "/.venv/" not in f.filename and "site-packages" not in f.filename]
    where = ours[-1] if ours else frames[-1]
    return f"{exc_info[0].__name__}: {str(exc_info[1])[:200]} at {Path(where.filename).name}:{where.lineno}"


def refused_to_outsider(who: Persona, target: Target, response: HttpResponse) -> bool:
    status = response.status_code
    if status in (404, 405):
        return True
    if who.user is None:
        if status in (401, 403):
            return True
        return status == 302 and urlsplit(response["Location"]).path == reverse("login")
    return False


def leaks(response: HttpResponse, canaries: tuple[str, ...]) -> str | None:
    if getattr(response, "streaming", False):
        return None
    body = response.content.decode(errors="replace")
    return next((canary for canary in canaries if canary in body), None)


def label(method: str, url: str, target: Target, who: Persona, token: bool) -> str:
    auth = " (token)" if token else ""
    return f"{method.upper()} {url} [{target.route.name or target.route.text}] as {who.name}{auth}"


def nested_form(response: HttpResponse) -> bool:
    if "text/html" not in response.get("Content-Type", ""):
        return False
    depth = 0
    for tag in re.findall(r"<(/?)form\b", response.content.decode(errors="replace")):
        depth += -1 if tag else 1
        if depth > 1:
            return True
    return False


def check(who: Persona, target: Target, method: str, response: HttpResponse, walk: Walk, *, token: bool) -> None:
    status = response.status_code
    walk.requests += 1
    walk.routes.add(target.route.text)
    walk.statuses[status] += 1
    where = f" to {response['Location']}" if response.has_header("Location") else ""
    label_ = label(method, target.url, target, who, token)
    if status >= 500:
        walk.findings.append(f"{label_}: {status} {server_error(response)}")
        return
    if status == 401 and not response.has_header("WWW-Authenticate"):
        walk.findings.append(f"{label_}: 401 without WWW-Authenticate")
    # Nobody walking is staff: the admin sends them elsewhere (a redirect shows nothing)
    # or shows its sign-in page.
    if target.kind == "admin" and status not in (302, 404, 405) and target.route.name != "admin:login":
        walk.findings.append(f"{label_}: {status}{where} from the admin to someone who is not staff")
    if who.name in OUTSIDERS:
        # OPTIONS at site B's address describes the route without looking the object up;
        # that it is answered as for an object that exists nowhere is checked in visit().
        describes = target.kind == "b-a" and method == "options"
        if target.kind in ("site-a", "b-a") and not describes and not refused_to_outsider(who, target, response):
            walk.findings.append(f"{label_}: {status}{where}, expected a 404 (or sign in) for another site's data")
        canary = leaks(response, (CANARY_A, "Northbridge"))
        if canary:
            walk.findings.append(f"{label_}: {status} shows site A's data ({canary!r})")
    if status == 200 and method == "get" and target.kind != "admin" and nested_form(response):
        walk.findings.append(f"{label_}: a <form> inside another <form> (the browser drops the inner one)")
    if who.name == OWNER and method == "get" and status == 404 and target.kind != "admin":
        walk.findings.append(f"{label_}: 404 for the site's own commissioner: the world holds nothing at this route")


# The database ---------------------------------------------------------------------------------


def table_names() -> list[str]:
    return sorted(set(connection.introspection.table_names()) - NOT_SITE_DATA)


def snapshot() -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row of every table."""
    # The names come from PostgreSQL's own catalogue, not from a request.
    parts = [
        f"SELECT '{name}', count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') "  # noqa: S608
        f"FROM {connection.ops.quote_name(name)} t"
        for name in table_names()
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return {name: (count, digest) for name, count, digest in cursor.fetchall()}


def tuples_written() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction, by table (PostgreSQL
    counts them even when a savepoint rolls them back)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
        return {name: count for name, count in cursor.fetchall() if count and name not in NOT_SITE_DATA}


@contextmanager
def quiet_request_log() -> Iterator[None]:
    """Thousands of refusals would each log a warning; server errors are reported here."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


# The walk ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def health_without_the_worker_ping(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk starts no Celery worker, and /health/ would wait seconds for one to
    answer each time (test_platform covers the ping); it checks the rest."""
    checks = [c for c in health_view.view_initkwargs["checks"] if "celery" not in str(c)]
    monkeypatch.setitem(health_view.view_initkwargs, "checks", checks)


@pytest.fixture
def world(site_a: Site, site_b: Site, commissioner_a: User, commissioner_b: User) -> World:
    site_a.name = f"Northbridge {CANARY_A}"
    site_a.save()
    return World(
        a=site_world(site_a, user=commissioner_a, canary=CANARY_A),
        b=site_world(site_b, user=commissioner_b, canary=CANARY_B),
        instrument=instrument_world(),
        reset=password_reset_world(),
    )


def probe_as_owner(owner: Persona, world: World) -> Probe:
    probe = Probe()
    for target in targets(world, mixed=False):
        if target.kind == "admin":
            continue
        client = owner.token if target.route.is_api and owner.token is not None else owner.page
        response = client.get(target.url)
        if response.status_code != 200 or getattr(response, "streaming", False):
            continue
        if target.route.is_api:
            if response.get("Content-Type", "").startswith("application/json"):
                probe.json[target.url] = representation(response.json())
            if response.has_header("ETag"):
                probe.etags[target.url] = response["ETag"]
        elif response.get("Content-Type", "").startswith("text/html"):
            for action, fields in read_forms(response.content.decode(), target.url).items():
                probe.forms.setdefault(action, fields)
    return probe


class Walker:
    """Sends one persona's requests and notes what each one did."""

    def __init__(self, who: Persona, probe: Probe) -> None:
        self.who = who
        self.probe = probe
        self.walk = Walk(persona=who.name)
        self.written = tuples_written()

    def send(self, method: str, target: Target, *, token: bool, url: str | None = None) -> HttpResponse:
        savepoint = transaction.savepoint()
        response = send(self.who, method, target, self.probe, token=token, url=url)
        # The owner's changes, and a request that failed half-way, are undone.
        if self.who.name == OWNER or response.status_code >= 500:
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        self.who.keep_signed_in(response)
        if self.who.name != OWNER:
            now = tuples_written()
            changed = sorted(table for table, count in now.items() if count != self.written.get(table, 0))
            if changed:
                self.walk.findings.append(
                    f"{label(method, url or target.url, target, self.who, token)}: {response.status_code}, "
                    f"wrote to {', '.join(changed)}"
                )
            self.written = now
        return response

    def visit(self, target: Target) -> None:
        for token in (False, True) if target.route.is_api and self.who.token is not None else (False,):
            for method in ADMIN_METHODS if target.kind == "admin" else METHODS:
                response = self.send(method, target, token=token)
                check(self.who, target, method, response, self.walk, token=token)
                if target.ghost_url is not None:
                    ghost = self.send(method, target, token=token, url=target.ghost_url)
                    self.walk.requests += 1
                    if ghost.status_code != response.status_code:
                        self.walk.findings.append(
                            f"{label(method, target.url, target, self.who, token)}: {response.status_code} for "
                            f"site A's object but {ghost.status_code} for none: it tells the object exists"
                        )


@pytest.mark.parametrize("persona_name", PERSONAS)
def test_every_route_keeps_each_persona_to_what_they_may_see_and_change(
    persona_name: str, world: World, request: pytest.FixtureRequest
) -> None:
    user = None if persona_name == "anonymous" else request.getfixturevalue(persona_name)
    who = persona(persona_name, user)
    owner = who if persona_name == OWNER else persona(OWNER, request.getfixturevalue(OWNER))
    probe = probe_as_owner(owner, world)
    before = snapshot()
    walker = Walker(who, probe)

    with quiet_request_log():
        for target in targets(world, mixed=persona_name == "commissioner_b"):
            walker.visit(target)

    walk = walker.walk
    after = snapshot()
    if persona_name != OWNER:
        changed_tables = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
        if changed_tables:
            walk.findings.append(f"{persona_name} changed the data of: {', '.join(changed_tables)}")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    walked = targets(world, mixed=persona_name == "commissioner_b")
    summary = {
        "persona": persona_name,
        "routes": len(walk.routes),
        "addresses_by_kind": dict(Counter(target.kind for target in walked)),
        "api_routes": len({t.route.text for t in walked if t.route.is_api}),
        "methods": {"admin": list(ADMIN_METHODS), "others": list(METHODS)},
        "requests": walk.requests,
        "statuses": dict(sorted(walk.statuses.items())),
        "findings": walk.findings,
    }
    (ARTIFACTS / f"{persona_name}.json").write_text(json.dumps(summary, indent=2))
    print(f"{persona_name}: {walk.requests} requests over {len(walk.routes)} routes, {dict(walk.statuses)}")
    assert not walk.findings, f"{len(walk.findings)} findings:\n" + "\n".join(walk.findings)


def test_the_walk_builds_an_address_for_every_route_that_leads_back_to_it(world: World) -> None:
    found = targets(world, mixed=True)
    kinds = Counter(target.kind for target in found)
    assert kinds["site-a"] > 40, kinds
    assert kinds["b-a"] > 20, kinds
    assert kinds["admin"] > 20, kinds
    assert sum(target.route.is_api for target in found) > 30
    for target in found:
        for url in (target.url, target.ghost_url or target.url):
            # Django drops a regex's "^" when it joins the patterns of an include.
            assert resolve(url).route == re.sub(r"(^|/)\^", r"\1", target.route.text), (url, target.route)
