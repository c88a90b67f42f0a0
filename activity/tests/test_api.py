"""The site's activity in the API: the same entries as the Activity page, paginated,
read-only, for everyone who can read the site."""

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import User
from assessment.models import Rating
from mapping import services as mapping_services
from sites.models import Role, Site
from tests.factories import MembershipFactory, UserFactory

from .helpers import deleted, item, saved, started_round

pytestmark = pytest.mark.django_db


def activity_url(site: Site, query: str = "") -> str:
    return reverse("api-activity", kwargs={"site_slug": site.slug}) + query


def test_the_api_lists_changes_newest_first_a_page_at_a_time(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    for number in range(30):
        mapping_services.organisation_create(
            site=site_a, user=commissioner_a, source="api", name=f"Provider {number:02d}", sector="nhs"
        )
    client = api_for(commissioner_a)
    first = client.get(activity_url(site_a, "?kind=organisation")).json()
    assert first["count"] == 30
    assert len(first["results"]) == 25
    assert first["previous"] is None and "page=2" in first["next"]
    newest = first["results"][0]
    assert newest["headline"] == "Organisation added"
    assert newest["subject"] == "Provider 29"
    assert newest["who"] == commissioner_a.get_full_name()
    assert newest["via"] == "api"
    assert newest["action"] == "created"
    assert {"field": "Sector", "before": None, "after": "NHS"} in newest["changes"]
    assert [entry["subject"] for entry in client.get(first["next"]).json()["results"]] == [
        f"Provider {number:02d}" for number in range(4, -1, -1)
    ]
    assert client.get(activity_url(site_a, "?page=99")).status_code == 404


def test_the_api_shows_a_deleted_rating_with_who_deleted_it(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    colleague = UserFactory(first_name="Sam", last_name="Jones")
    MembershipFactory(user=colleague, site=site_a, role=Role.COMMISSIONER)
    round_ = started_round(site_a, commissioner_a)
    rating = saved(
        Rating(round=round_, item=item(round_, "service-accessibility"), participant="Dr Lee", score=2),
        commissioner_a,
    )
    deleted(rating, colleague, "api", minutes_later=1)

    entry = api_for(commissioner_a).get(activity_url(site_a, "?kind=rating")).json()["results"][0]
    assert entry["headline"] == "Rating deleted"
    assert entry["action"] == "deleted"
    assert (entry["who"], entry["via"]) == ("Sam Jones", "api")
    assert entry["url"] is None
    assert {"field": "Score", "before": "2", "after": None} in entry["changes"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("?kind=everything", "kind", "Choose a kind of record from the list."),
        ("?person=nobody", "person", "Choose a person from the list."),
    ],
)
def test_a_filter_value_not_on_the_list_is_a_400_with_the_reason(
    api_for: Any, commissioner_a: User, site_a: Site, query: str, field: str, message: str
) -> None:
    response = api_for(commissioner_a).get(activity_url(site_a, query))
    assert response.status_code == 400
    assert response.json() == {field: [message]}


def test_the_api_filters_by_person(api_for: Any, commissioner_a: User, site_a: Site) -> None:
    colleague = UserFactory(username="colleague")
    MembershipFactory(user=colleague, site=site_a, role=Role.COMMISSIONER)
    mapping_services.organisation_create(site=site_a, user=commissioner_a, source="api", name="Mine", sector="nhs")
    mapping_services.organisation_create(site=site_a, user=colleague, source="page", name="Theirs", sector="nhs")
    results = api_for(commissioner_a).get(activity_url(site_a, "?person=colleague")).json()["results"]
    assert [entry["subject"] for entry in results] == ["Theirs"]


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer"])
def test_readers_of_the_site_read_its_activity_and_change_nothing(
    api_for: Any, request: pytest.FixtureRequest, commissioner_a: User, site_a: Site, persona: str
) -> None:
    mapping_services.organisation_create(site=site_a, user=commissioner_a, source="api", name="Mine", sector="nhs")
    client = api_for(request.getfixturevalue(persona))
    assert "Mine" in [entry["subject"] for entry in client.get(activity_url(site_a)).json()["results"]]
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(activity_url(site_a), {}, format="json").status_code in (403, 405), method


def test_another_sites_commissioner_gets_404_and_anonymous_is_refused(
    api_for: Any, commissioner_b: User, site_a: Site, client_for: Any
) -> None:
    assert api_for(commissioner_b).get(activity_url(site_a)).status_code == 404
    assert api_for(None).get(activity_url(site_a)).status_code == 401
