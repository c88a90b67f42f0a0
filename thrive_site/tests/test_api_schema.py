"""The OpenAPI schema and its documentation page."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_schema_generates_and_validates_without_a_single_warning(tmp_path: Path) -> None:
    schema_file = tmp_path / "schema.yml"
    # --fail-on-warn raises on any warning or error; --validate checks it against the OpenAPI spec.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(schema_file))
    schema: dict[str, Any] = yaml.safe_load(schema_file.read_text())
    paths = schema["paths"]
    assert "/api/sites/{site_slug}/services/{public_id}/offers/{grouping_code}/" in paths
    list_parameters = {p["name"] for p in paths["/api/sites/{site_slug}/services/"]["get"]["parameters"]}
    assert {"q", "grouping", "sector", "age", "status", "stale", "ordering", "include_archived", "page"} <= (
        list_parameters
    )


def test_docs_page_shows_for_a_signed_in_user(viewer_a: User) -> None:
    client = APIClient()
    client.force_login(viewer_a)
    assert client.get(reverse("swagger-ui")).status_code == 200
    assert client.get(reverse("schema")).status_code == 200


def test_docs_page_sends_anonymous_visitors_to_sign_in(db: Any) -> None:
    response = APIClient().get(reverse("swagger-ui"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_schema_can_be_fetched_with_a_token_but_not_anonymously(viewer_a: User) -> None:
    token = Token.objects.create(user=viewer_a)
    client = APIClient()
    assert client.get(reverse("schema")).status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(reverse("schema")).status_code == 200
