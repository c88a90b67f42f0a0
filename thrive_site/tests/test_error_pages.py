"""Error pages in the site's layout, and the favicon."""

from pathlib import Path
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from accounts.models import User
from sites.models import Site

BASE_DIR = Path(__file__).resolve().parent.parent.parent
LAYOUT = '<header class="govuk-header"'


@pytest.mark.django_db
def test_a_page_that_does_not_exist_is_a_404_in_the_site_layout(client_for: Any, viewer_a: User) -> None:
    response = client_for(viewer_a).get("/sites/no-such-site/")

    page = response.content.decode()
    assert response.status_code == 404
    assert LAYOUT in page
    assert '<h1 class="govuk-heading-xl">Page not found</h1>' in page
    assert "Change password" in page, "the signed-in header is shown"


@pytest.mark.django_db
def test_a_reader_who_tries_to_change_a_site_is_told_only_commissioners_can_and_is_linked_back(
    client_for: Any, viewer_a: User, site_a: Site
) -> None:
    response = client_for(viewer_a).get(reverse("mapping:service-create", kwargs={"site_slug": site_a.slug}))

    page = response.content.decode()
    assert response.status_code == 403
    assert LAYOUT in page
    assert "You cannot change this site's data" in page
    assert "Only the site&#x27;s commissioners can change its register." in page
    assert f'href="{reverse("sites:overview", kwargs={"site_slug": site_a.slug})}"' in page


@pytest.mark.django_db
def test_a_403_away_from_a_site_explains_itself_and_links_to_the_sites(client_for: Any, viewer_a: User) -> None:
    response = client_for(viewer_a).get(reverse("instruments:instrument-load"))

    page = response.content.decode()
    assert response.status_code == 403
    assert LAYOUT in page
    assert "Only staff can load a new version of the assessment tool." in page
    assert f'href="{reverse("home")}">Go to your sites</a>' in page


@pytest.mark.django_db
def test_a_request_for_a_host_the_site_does_not_serve_is_a_400_in_the_site_layout() -> None:
    response = Client(HTTP_HOST="attacker.example").get(reverse("login"))

    page = response.content.decode()
    assert response.status_code == 400
    assert LAYOUT in page
    assert "There is a problem with your request" in page


@pytest.mark.django_db
def test_a_form_posted_without_its_csrf_cookie_gets_a_403_in_the_site_layout(commissioner_a: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(commissioner_a)

    response = client.post(reverse("password_change"), {})

    assert response.status_code == 403
    assert LAYOUT in response.content.decode()
    assert "Your form could not be sent" in response.content.decode()


def test_the_500_page_renders_in_the_site_layout_without_a_database_or_a_request() -> None:
    # No django_db mark: any query from the template would fail this test.
    page = render_to_string("500.html")

    assert LAYOUT in page
    assert "Sorry, there is a problem with the service" in page


def test_the_server_error_view_answers_with_the_500_page() -> None:
    response = server_error(RequestFactory().get("/sites/northbridge/"))

    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.content.decode()


@pytest.mark.django_db
def test_the_favicon_is_served_at_the_site_root_without_signing_in_and_is_not_the_govuk_crown() -> None:
    response = Client().get("/favicon.ico")

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert body.startswith(b"\x00\x00\x01\x00"), "an ICO file"
    assert body != (BASE_DIR / "static" / "vendor" / "govuk-images" / "favicon.ico").read_bytes()


@pytest.mark.django_db
def test_every_page_links_the_favicon(client: Client) -> None:
    page = client.get(reverse("login")).content.decode()

    assert '<link rel="icon" href="/favicon.ico" sizes="32x32">' in page
    assert 'href="/static/images/favicon.svg"' in page
