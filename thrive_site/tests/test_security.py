"""The platform's defences, as a browser or an API client meets them: the security
headers on every response, addresses with control characters in them, NUL characters
in query strings, forms and JSON bodies, and API errors that answer in JSON."""

import datetime
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from accounts.models import User
from assessment.management.commands.load_instrument import load_default_instrument
from assessment.models import Item, Round
from assessment.services import round_create
from gaps import services as gap_services
from gaps.models import AnalysisRun, RunStatus, RunTrigger, SiteAssumptions
from gaps.results import run_results
from mapping.models import Grouping, Organisation, Service
from sites.models import AgeBand, Site, SitePopulation
from tests.factories import OfferFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
NUL = "%00"


def csp_directives(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values for name, *values in (directive.split() for directive in header.split(";") if directive.strip())
    }


def api_client(user: User) -> Client:
    token, _ = Token.objects.get_or_create(user=user)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.raise_request_exception = False
    return client


def quiet(client: Client) -> Client:
    """A client that reports a server error as the 500 a browser would get."""
    client.raise_request_exception = False
    return client


@pytest.fixture
def staff_superuser(db: Any) -> User:
    return UserFactory(username="admin-person", is_staff=True, is_superuser=True)


# Content-Security-Policy, Permissions-Policy, caching -------------------------------------


def test_every_page_forbids_script_and_style_from_anywhere_but_this_server(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    for url in (reverse("login"), reverse("home"), reverse("sites:overview", kwargs={"site_slug": site_a.slug})):
        client = client_for(None if url == reverse("login") else commissioner_a)
        directives = csp_directives(client.get(url))
        assert directives == {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }, url


def test_the_api_docs_page_runs_its_inline_script_and_style_by_nonce_only(viewer_a: User) -> None:
    client = Client()
    client.force_login(viewer_a)
    response = client.get(reverse("swagger-ui"))
    directives = csp_directives(response)
    nonce = directives["script-src"][1]
    assert re.fullmatch(r"'nonce-[A-Za-z0-9+/=]{16,}'", nonce)
    assert directives["style-src"] == ["'self'", nonce]
    html = response.content.decode()
    token = nonce.removeprefix("'nonce-").removesuffix("'")
    assert html.count(f'nonce="{token}"') == 2
    assert "<script>" not in html and "<style>" not in html
    # A fresh nonce for every response.
    assert csp_directives(client.get(reverse("swagger-ui")))["script-src"][1] != nonce


def test_no_template_holds_inline_script_or_style() -> None:
    """Inline script, event handler attributes and style attributes would all be
    refused by the policy; the API docs page's nonced blocks are the only exception."""
    offenders = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        if template.relative_to(ROOT).as_posix() == "templates/drf_spectacular/swagger_ui.html":
            text = re.sub(r'<(script|style) nonce="\{\{ request.csp_nonce \}\}">.*?</\1>', "", text, flags=re.S)
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=", r"\son[a-z]+=", r"javascript:"):
            offenders += [f"{template.relative_to(ROOT)}: {match}" for match in re.findall(pattern, text)]
    assert offenders == []


def test_every_response_denies_the_browser_features_the_product_never_uses(
    client_for: Any, commissioner_a: User
) -> None:
    for client in (client_for(None), client_for(commissioner_a)):
        header = client.get(reverse("login")).headers["Permissions-Policy"]
        policy = dict(part.split("=") for part in header.split(", "))
        for feature in ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid"):
            assert policy[feature] == "()", feature


def test_pages_and_api_answers_for_a_signed_in_user_are_never_stored(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    page = client_for(commissioner_a).get(reverse("sites:overview", kwargs={"site_slug": site_a.slug}))
    assert "no-store" in page["Cache-Control"]
    # Token requests are authenticated by the API view, after the middleware has run.
    api = api_client(commissioner_a).get(reverse("api-site-detail", kwargs={"site_slug": site_a.slug}))
    assert api.status_code == 200
    assert "no-store" in api["Cache-Control"]
    refused = api_client(commissioner_a).get(reverse("api-site-detail", kwargs={"site_slug": "elsewhere"}))
    assert refused.status_code == 404
    assert "no-store" in refused["Cache-Control"]


def test_an_anonymous_visitor_is_sent_to_sign_in_without_a_no_store_header(client_for: Any, site_a: Site) -> None:
    response = client_for(None).get(reverse("sites:overview", kwargs={"site_slug": site_a.slug}))
    assert response.status_code == 302
    assert "no-store" not in response.get("Cache-Control", "")


def test_static_files_stay_cacheable_for_a_signed_in_user(settings: Any, client_for: Any, commissioner_a: User) -> None:
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = client_for(commissioner_a).get("/static/js/app.js")
    assert response.status_code == 200
    assert "initAll" in b"".join(response.streaming_content).decode()
    assert "no-store" not in response.get("Cache-Control", "")


def test_base_page_loads_its_scripts_from_files_and_turns_off_htmx_eval_and_inline_styles(
    client_for: Any, commissioner_a: User
) -> None:
    html = client_for(commissioner_a).get(reverse("home")).content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all(" src=" in tag for tag in scripts)
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', html)
    assert meta is not None
    config = json.loads(meta.group(1))
    assert config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False


# Control characters in addresses --------------------------------------------------------


def _routes(resolver: URLResolver, prefix: str = "") -> Iterator[str]:
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        part = getattr(pattern, "_route", None)
        if part is None:
            part = str(pattern.regex.pattern).removeprefix("^").removesuffix("$").replace("\\", "")
        if isinstance(entry, URLResolver):
            yield from _routes(entry, prefix + part)
        elif isinstance(entry, URLPattern):
            yield prefix + part


def _with_nul_in_every_parameter(route: str) -> str:
    route = re.sub(r"\(\?P<\w+>[^)]*\)", f"a{NUL}b", route)
    return "/" + re.sub(r"<(?:\w+:)?\w+>", f"a{NUL}b", route)


def every_route_with_a_parameter() -> list[str]:
    return sorted({_with_nul_in_every_parameter(r) for r in _routes(get_resolver()) if "<" in r or "(?P" in r})


def test_the_route_walk_reaches_the_free_text_parameters_that_once_answered_500() -> None:
    urls = every_route_with_a_parameter()
    assert f"/sites/a{NUL}b/gaps/improvements/a{NUL}b/" in urls
    assert f"/assessment/instruments/a{NUL}b/" in urls
    assert f"/api/instruments/a{NUL}b/" in urls
    assert f"/admin/authtoken/tokenproxy/a{NUL}b/change/" in urls
    assert len(urls) > 60


@pytest.mark.parametrize("persona", ["anonymous", "commissioner_a", "staff_superuser"])
def test_a_nul_in_any_parameter_of_any_route_is_not_found(request: pytest.FixtureRequest, persona: str) -> None:
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    client = Client()
    if user is not None:
        client.force_login(user)
    quiet(client)
    for url in every_route_with_a_parameter():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 404, (url, method.__name__, response.status_code)
            if url.startswith("/api/"):
                assert response.json() == {"detail": "Not found."}, url


@pytest.fixture
def improvement_key(site_a: Site, commissioner_a: User, groupings: dict[str, Grouping]) -> str:
    for band in AgeBand:
        SitePopulation.objects.create(site=site_a, age_band=band.value, people=1000)
    OfferFactory(service=ServiceFactory(site=site_a), grouping=groupings["getting-help"], capacity_share=100)
    run = AnalysisRun.objects.create(site=site_a, trigger=RunTrigger.PAGE, requested_by=commissioner_a)
    gap_services.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    return run_results(run=run).improvements[0].key


@pytest.mark.parametrize("character", ["%00", "%0A", "%0D", "%09", "%1B", "%7F", "%C2%85"])
def test_a_control_character_in_an_improvement_key_or_instrument_version_is_not_found(
    client_for: Any, commissioner_a: User, staff_superuser: User, site_a: Site, improvement_key: str, character: str
) -> None:
    """The parameters with real values around them, so each view would otherwise run."""
    version = load_default_instrument().version
    key = improvement_key + character
    site = site_a.slug
    pages = quiet(client_for(commissioner_a))
    api = api_client(commissioner_a)
    assert pages.get(f"/sites/{site}/gaps/improvements/{improvement_key}/").status_code == 200
    assert pages.get(f"/assessment/instruments/{version}/").status_code == 200
    assert api.get(f"/api/instruments/{version}/").status_code == 200
    for client, method, url in (
        (pages, "get", f"/sites/{site}/gaps/improvements/{key}/"),
        (pages, "post", f"/sites/{site}/gaps/improvements/{key}/"),
        (pages, "get", f"/assessment/instruments/{version}{character}/"),
        (api, "get", f"/api/sites/{site}/improvements/{key}/"),
        (api, "patch", f"/api/sites/{site}/improvements/{key}/"),
        (api, "get", f"/api/sites/{site}/improvements/{key}/pdsa/"),
        (api, "post", f"/api/sites/{site}/improvements/{key}/pdsa/"),
        (api, "get", f"/api/instruments/{version}{character}/"),
    ):
        options = {"content_type": "application/json"} if client is api else {}
        response = getattr(client, method)(url, **options)
        assert response.status_code == 404, (method, url)
    admin = quiet(client_for(staff_superuser))
    user_id = commissioner_a.pk
    assert admin.get(f"/admin/accounts/user/{user_id}/change/").status_code == 200
    for suffix in ("change/", "history/", "delete/", ""):
        assert admin.get(f"/admin/accounts/user/{user_id}{character}/{suffix}").status_code == 404


# NUL in query strings, forms and JSON ----------------------------------------------------


@pytest.fixture
def round_a(site_a: Site, commissioner_a: User) -> Round:
    load_default_instrument()
    return round_create(site=site_a, user=commissioner_a, held_on=datetime.date(2026, 3, 1), source="page")


def test_a_nul_in_any_query_parameter_never_breaks_a_page(
    client_for: Any, commissioner_a: User, site_a: Site, round_a: Round, improvement_key: str
) -> None:
    client = quiet(client_for(commissioner_a))
    service = Service.objects.filter(site=site_a).first()
    assert service is not None
    site = site_a.slug
    names = ["q", "grouping", "mapped", "sector", "age", "status", "stale", "ordering", "page", "cancel", "saved"]
    names += ["before", "after", "round", "include_archived", "item", "format", "next"]
    query = "&".join(f"{name}=a{NUL}b" for name in names)
    urls = [
        "/",
        f"/sites/{site}/",
        f"/sites/{site}/services/",
        f"/sites/{site}/services/{service.public_id}/",
        f"/sites/{site}/matrix/",
        f"/sites/{site}/matrix/{service.public_id}/getting-help/",
        f"/sites/{site}/organisations/",
        f"/sites/{site}/assessment/",
        f"/sites/{site}/assessment/compare/",
        f"/sites/{site}/assessment/{round_a.public_id}/",
        f"/sites/{site}/assessment/{round_a.public_id}/score/system/",
        f"/sites/{site}/gaps/",
        f"/sites/{site}/gaps/runs/",
        f"/sites/{site}/gaps/improvements/{improvement_key}/",
        f"/sites/{site}/gaps/assumptions/",
        "/assessment/instruments/",
        "/accounts/login/",
    ]
    for url in urls:
        response = client.get(f"{url}?{query}")
        assert response.status_code in (200, 302, 400, 404), url
    api = api_client(commissioner_a)
    for url in (
        "/api/sites/",
        f"/api/sites/{site}/services/",
        f"/api/sites/{site}/organisations/",
        f"/api/sites/{site}/gap-runs/",
        f"/api/sites/{site}/rounds/",
        f"/api/sites/{site}/rounds/{round_a.public_id}/ratings/",
        f"/api/sites/{site}/assessment/comparison/",
        "/api/instruments/",
        "/api/prevalence/",
    ):
        response = api.get(f"{url}?{query}")
        assert response.status_code in (200, 400, 404), url
        assert response["Content-Type"] == "application/json", url


def test_a_nul_in_any_form_field_is_refused_with_a_message(
    client_for: Any, commissioner_a: User, site_a: Site, round_a: Round, improvement_key: str
) -> None:
    client = quiet(client_for(commissioner_a))
    service = Service.objects.filter(site=site_a).first()
    assert service is not None
    organisation = Organisation.objects.filter(site=site_a).first()
    assert organisation is not None
    site = site_a.slug
    text = "a\x00b"
    item = Item.objects.filter(instrument=round_a.instrument).select_related("part").first()
    assert item is not None
    item_url = f"/sites/{site}/assessment/{round_a.public_id}/score/{item.part.code}/{item.code}/"
    posts = [
        (f"/sites/{site}/services/new/", {"name": text, "description": text, "organisation": text, "sector": text}),
        (f"/sites/{site}/services/{service.public_id}/edit/", {"name": text, "contact_phone": text}),
        (f"/sites/{site}/organisations/new/", {"name": text, "sector": text, "website": text}),
        (f"/sites/{site}/organisations/{organisation.public_id}/edit/", {"name": text}),
        (f"/sites/{site}/matrix/{service.public_id}/getting-help/", {"capacity_share": text, "description": text}),
        (f"/sites/{site}/services/{service.public_id}/mapping/", {"getting-help-description": text}),
        (f"/sites/{site}/assessment/new/", {"held_on_0": text, "held_on_1": "3", "held_on_2": "2026", "notes": text}),
        (item_url, {f"{item.code}-score": text, f"{item.code}-evidence_text": text, f"{item.code}-version": "0"}),
        (f"{item_url}ratings/", {f"{item.code}-rating-participant": text, f"{item.code}-rating-score": "2"}),
        (f"/sites/{site}/gaps/improvements/{improvement_key}/", {"action": "decision", "decision-status": text}),
        (
            f"/sites/{site}/gaps/improvements/{improvement_key}/",
            {"action": "decision", "decision-status": "dismissed", "decision-dismiss_reason": text},
        ),
        (
            f"/sites/{site}/gaps/improvements/{improvement_key}/",
            {"action": "pdsa", "pdsa-stage": "plan", "pdsa-note": text},
        ),
        (f"/sites/{site}/gaps/assumptions/", {"action": "assumptions", "thriving_percent": text}),
        (f"/sites/{site}/gaps/assumptions/", {"action": text}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code in (200, 400), url
    signing_in = quiet(client_for(None)).post("/accounts/login/", {"username": text, "password": text})
    assert signing_in.status_code == 200
    assert "Sign out" not in signing_in.content.decode()
    assert not Service.objects.filter(name__contains="a").exclude(pk=service.pk).exists()
    assert not SiteAssumptions.objects.filter(site=site_a).exists()


def test_a_nul_anywhere_in_a_json_body_is_a_400_naming_the_problem(
    commissioner_a: User, site_a: Site, round_a: Round, improvement_key: str
) -> None:
    api = api_client(commissioner_a)
    site = site_a.slug
    assumptions = {
        "thriving_percent": 80,
        "advice_percent": 40,
        "help_percent": 30,
        "more_help_percent": 20,
        "risk_percent": 10,
        "max_wait_weeks": 18,
        "self_referral_percent": 50,
    }
    bodies = [
        ("put", f"/api/sites/{site}/gap-assumptions/", {**assumptions, "principle_weights": {"needs-led\x00": 1}}),
        ("put", f"/api/sites/{site}/population/", {"0-4\x00": 5}),
        ("post", f"/api/sites/{site}/organisations/", {"name": "a\x00b", "sector": "nhs"}),
        ("post", f"/api/sites/{site}/services/", {"name": "x", "tags": [["deep\x00"]]}),
        ("patch", f"/api/sites/{site}/improvements/{improvement_key}/", {"owner": "a\x00b"}),
        ("post", f"/api/sites/{site}/rounds/", {"held_on": "2027-01-01", "notes": "a\x00b"}),
    ]
    for method, url, body in bodies:
        # A change carries the ETag it read, so the body is what is refused.
        headers = {"HTTP_IF_MATCH": api.get(url)["ETag"]} if method in ("put", "patch") else {}
        response = getattr(api, method)(url, json.dumps(body), content_type="application/json", **headers)
        assert response.status_code == 400, url
        assert "NUL character" in response.json()["detail"], url
    assert not SiteAssumptions.objects.filter(site=site_a).exists()
    assert not Organisation.objects.filter(site=site_a, name__startswith="a").exists()


def test_a_nul_in_a_form_or_multipart_api_body_is_a_400_and_changes_nothing(commissioner_a: User, site_a: Site) -> None:
    api = api_client(commissioner_a)
    url = reverse("api-service-list", kwargs={"site_slug": site_a.slug})
    for data in ({"name": "x", "areas": "North\x00"}, {"name\x00": "x"}, {"referral_routes": "self\x00"}):
        for form in ("multipart", "urlencoded"):
            if form == "multipart":
                response = api.post(url, data)
            else:
                response = api.post(url, urlencode(data), content_type="application/x-www-form-urlencoded")
            assert response.status_code == 400, (form, data)
            assert "NUL character" in response.json()["detail"], (form, data)
    assert not Service.objects.filter(site=site_a).exists()


# API errors in JSON --------------------------------------------------------------------


def test_a_json_body_over_the_size_limit_gets_a_413_in_json(commissioner_a: User, site_a: Site) -> None:
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "sector": "nhs"})
    response = api_client(commissioner_a).post(
        reverse("api-organisation-list", kwargs={"site_slug": site_a.slug}), body, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request body is larger than the limit of 2.5 MB. Send less at once."}
    assert not Organisation.objects.filter(site=site_a).exists()


def test_a_body_nested_too_deep_to_decode_is_a_400_in_json(commissioner_a: User, site_a: Site) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = api_client(commissioner_a).post(
        reverse("api-organisation-list", kwargs={"site_slug": site_a.slug}), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_form_body_with_too_many_fields_gets_a_400_in_json(commissioner_a: User, site_a: Site) -> None:
    fields = {f"field{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = api_client(commissioner_a).post(
        reverse("api-organisation-list", kwargs={"site_slug": site_a.slug}), fields
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "The request could not be read."}


def test_an_address_under_the_api_that_names_nothing_is_a_404_in_json(commissioner_a: User) -> None:
    for client in (quiet(Client()), api_client(commissioner_a)):
        response = client.get("/api/no-such-thing/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_a_page_that_names_nothing_is_still_an_html_404(client_for: Any, commissioner_a: User) -> None:
    response = client_for(commissioner_a).get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unexpected_failure_in_the_api_is_a_500_in_json(
    monkeypatch: pytest.MonkeyPatch, commissioner_a: User
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr("sites.api.SiteListApi.get", broken)
    response = api_client(commissioner_a).get(reverse("api-site-list"))
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on the server. Try again later."}
