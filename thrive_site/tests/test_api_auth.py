"""API authentication: a missing or bad token is a 401 that names the scheme, on every
API route, found from the URL resolver so a new route is covered without editing
this file. The browser session keeps working, with its CSRF check."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.models import User
from mapping.models import Organisation, Service
from sites.models import Site
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete", "options"]
# The interactive documentation is a page for people in a browser: it sends them to
# sign in (test_api_schema.py) instead of answering 401.
BROWSER_PAGES = {"swagger-ui"}

SAMPLE_VALUES: dict[type, Any] = {
    SlugConverter: "northbridge",
    UUIDConverter: uuid.UUID("8a3c2f44-5d1e-4f0b-9c61-2b7d9e0a4c13"),
    StringConverter: "getting-help",
    PathConverter: "anything",
    IntConverter: 1,
}


def api_patterns(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern served by a DRF view, with the namespace it is reversed in."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from api_patterns(entry, namespace)
        elif isinstance(getattr(entry.callback, "cls", None), type) and issubclass(entry.callback.cls, APIView):
            yield prefix, entry


def api_urls() -> list[str]:
    urls = []
    for namespace, pattern in api_patterns():
        if pattern.name in BROWSER_PAGES:
            continue
        assert pattern.name, f"API route {pattern.pattern} has no name"
        converters = pattern.pattern.converters
        kwargs = {name: SAMPLE_VALUES[type(converter)] for name, converter in converters.items()}
        urls.append(reverse(f"{namespace}{pattern.name}", kwargs=kwargs))
    return urls


API_URLS = api_urls()


def assert_refused_with_401(response: Any, where: str) -> None:
    assert response.status_code == 401, (where, response.status_code)
    assert response["WWW-Authenticate"] == "Token", where
    assert response["Content-Type"] == "application/json", (where, response["Content-Type"])
    assert response.json()["detail"], where


def test_the_walk_finds_every_api_route_including_the_schema() -> None:
    assert len(API_URLS) >= 30
    assert reverse("schema") in API_URLS
    assert reverse("api-site-list") in API_URLS
    assert all(url.startswith("/api/") for url in API_URLS)


@pytest.mark.parametrize("url", API_URLS)
def test_an_anonymous_request_to_any_api_route_is_a_401_naming_the_token_scheme(url: str) -> None:
    client = APIClient()
    for method in METHODS:
        assert_refused_with_401(getattr(client, method)(url, format="json"), f"{method} {url}")


@pytest.mark.parametrize("url", API_URLS)
def test_a_bad_token_on_any_api_route_is_a_401_naming_the_token_scheme(url: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    for method in METHODS:
        response = getattr(client, method)(url, format="json")
        assert_refused_with_401(response, f"{method} {url}")
        assert response.json() == {"detail": "Invalid token."}


def test_the_schema_refuses_anonymous_readers_in_json_even_when_yaml_is_asked_for() -> None:
    response = APIClient().get(reverse("schema"), HTTP_ACCEPT="application/vnd.oai.openapi")

    assert_refused_with_401(response, "schema")


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token", "Invalid token header. No credentials provided."),
        ("Token two words", "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_a_malformed_token_header_is_a_401_saying_what_is_wrong(header: str, detail: str, site_a: Site) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(reverse("api-site-list"))

    assert_refused_with_401(response, header)
    assert response.json() == {"detail": detail}


def test_the_token_of_a_deactivated_account_is_refused_with_a_401(viewer_a: User) -> None:
    token = Token.objects.create(user=viewer_a)
    viewer_a.is_active = False
    viewer_a.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert_refused_with_401(client.get(reverse("api-site-list")), "deactivated")


def test_anonymous_writes_change_nothing(site_a: Site) -> None:
    service = ServiceFactory(site=site_a, name="School Nursing")
    url = reverse("api-service-detail", kwargs={"site_slug": site_a.slug, "public_id": service.public_id})

    APIClient().patch(url, {"name": "Changed"}, format="json")
    APIClient().delete(url)

    assert Service.objects.get(pk=service.pk).name == "School Nursing"


def test_a_good_token_still_reads_the_api(viewer_a: User, site_a: Site) -> None:
    token = Token.objects.create(user=viewer_a)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(reverse("api-site-list"))

    assert response.status_code == 200
    assert [site["slug"] for site in response.json()["results"]] == [site_a.slug]


def test_a_signed_in_browser_session_reads_the_api_and_writes_with_its_csrf_token(
    commissioner_a: User, site_a: Site
) -> None:
    url = reverse("api-organisation-list", kwargs={"site_slug": site_a.slug})
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(commissioner_a)

    assert client.get(url).status_code == 200
    refused = client.post(url, {"name": "Forged Trust", "sector": "nhs"}, format="json")
    # A page of the site hands the browser its CSRF cookie, as the docs page and htmx use it.
    client.get(reverse("sites:overview", kwargs={"site_slug": site_a.slug}))
    csrf_token = client.cookies["csrftoken"].value
    body = {"name": "Northbridge Youth Trust", "sector": "voluntary"}
    accepted = client.post(url, body, format="json", HTTP_X_CSRFTOKEN=csrf_token)

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201, accepted.content
    assert list(Organisation.objects.filter(site=site_a).values_list("name", flat=True)) == ["Northbridge Youth Trust"]
