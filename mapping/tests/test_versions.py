"""Two people changing the same service or the same mapping: the second save, made on
what they saw before the first, is refused with what the first person saved, on the
pages and through the API, and the database keeps only the first change."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from mapping import services
from mapping.models import Grouping, Offer, Service
from sites.models import Site
from tests.api import send
from tests.factories import OfferFactory, ServiceFactory
from tests.pages import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def service_a(site_a: Site, groupings: dict[str, Grouping]) -> Service:
    service = ServiceFactory(site=site_a, name="Northbridge School Counselling", annual_capacity=300)
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=60)
    return service


def page_url(name: str, service: Service, **extra: str) -> str:
    return reverse(name, kwargs={"site_slug": service.site.slug, "public_id": service.public_id, **extra})


def api_url(service: Service, suffix: str = "") -> str:
    return page_url("api-service-detail", service) + suffix


def cell_url(service: Service, grouping_code: str) -> str:
    return page_url("mapping:matrix-cell", service, grouping_code=grouping_code)


def colleague_changes_capacity(service: Service, colleague: User, capacity: int) -> None:
    services.service_update(
        service=service,
        user=colleague,
        source="page",
        data={"annual_capacity": capacity},
        expected_version=Service.objects.get(pk=service.pk).version,
    )


# The service's record: the edit page


def test_a_stale_save_of_a_service_is_refused_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    url = page_url("mapping:service-edit", service_a)
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = form_data(mine.get(url).content), form_data(theirs.get(url).content)

    their_form["annual_capacity"] = "400"
    assert theirs.post(url, their_form).status_code == 302
    my_form.update(annual_capacity="900", name="Counselling in Schools")
    response = mine.post(url, my_form)

    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Sam Jones changed this service" in page
    notice = page[page.index('id="stale-notice"') :]
    assert "400" in notice and "900" in notice  # theirs and mine, side by side
    kept = form_data(page)
    assert (kept["annual_capacity"], kept["name"]) == ("900", "Counselling in Schools")
    service = Service.objects.get(pk=service_a.pk)
    assert (service.annual_capacity, service.name, service.version) == (400, "Northbridge School Counselling", 2)

    # Saving again after seeing their change is a deliberate choice, and is applied.
    assert mine.post(url, kept).status_code == 302
    service.refresh_from_db()
    assert (service.annual_capacity, service.name, service.version) == (900, "Counselling in Schools", 3)


def test_an_edit_page_posted_without_its_version_is_refused_as_out_of_date(
    client_for: Any, commissioner_a: User, service_a: Service
) -> None:
    url = page_url("mapping:service-edit", service_a)
    client = client_for(commissioner_a)
    form = form_data(client.get(url).content)
    del form["version"]
    response = client.post(url, {**form, "name": "Renamed"})
    assert "This form is out of date. Reload the page and try again." in response.content.decode()
    assert Service.objects.get(pk=service_a.pk).name == "Northbridge School Counselling"


# The service's record: the API


def test_a_second_stale_change_to_a_service_is_412_with_the_current_one(
    api_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    mine, theirs = api_for(commissioner_a), api_for(colleague)
    url = api_url(service_a)
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    assert read_by_me == read_by_them == '"1"'
    changed = theirs.patch(url, {"annual_capacity": 400}, format="json", HTTP_IF_MATCH=read_by_them)
    assert (changed.status_code, changed["ETag"], changed.json()["version"]) == (200, '"2"', 2)

    for method, body in (("patch", {"annual_capacity": 900}), ("put", {**mine.get(url).json(), "name": "Mine"})):
        body = {**body, "organisation": str(service_a.organisation.public_id)}
        response = getattr(mine, method)(url, body, format="json", HTTP_IF_MATCH=read_by_me)
        assert response.status_code == 412, method
        assert response.json()["code"] == "stale"
        assert "Sam Jones changed this service" in response.json()["detail"]
        assert response.json()["current"]["annual_capacity"] == 400
        assert response.json()["current"]["offers"][0]["grouping"] == "getting-help"
        assert response["ETag"] == '"2"'
    response = mine.delete(url, HTTP_IF_MATCH=read_by_me)
    assert response.status_code == 412
    service = Service.objects.get(pk=service_a.pk)
    assert (service.annual_capacity, service.name, service.archived_at, service.version) == (
        400,
        "Northbridge School Counselling",
        None,
        2,
    )


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_changing_a_service_without_if_match_is_428_and_changes_nothing(
    api_for: Any, commissioner_a: User, service_a: Service, method: str
) -> None:
    client = api_for(commissioner_a)
    body = {**client.get(api_url(service_a)).json(), "organisation": str(service_a.organisation.public_id)}
    response = getattr(client, method)(api_url(service_a), {**body, "name": "Renamed"}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    service = Service.objects.get(pk=service_a.pk)
    assert (service.name, service.archived_at, service.version) == ("Northbridge School Counselling", None, 1)


def test_a_service_answers_with_its_etag_and_archive_and_restore_move_it_on(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    url = api_url(service_a)
    assert client.get(url)["ETag"] == '"1"'
    archived = client.delete(url, HTTP_IF_MATCH='"1"')
    assert (archived.status_code, archived["ETag"]) == (204, '"2"')
    restore = api_url(service_a, "restore/")
    assert client.post(restore).status_code == 428
    assert client.post(restore, HTTP_IF_MATCH='"1"').status_code == 412
    restored = client.post(restore, HTTP_IF_MATCH='"2"')
    assert (restored.status_code, restored["ETag"], restored.json()["archived_at"]) == (200, '"3"', None)
    history = [(r.history_change_reason, r.history_user) for r in Service.objects.get(pk=service_a.pk).history.all()]
    assert history[:2] == [("api", commissioner_a), ("api", commissioner_a)]


# Archive, restore and "mark as checked" on the pages


def test_archiving_after_a_colleague_changed_the_service_is_refused_showing_the_service_as_it_is(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    url = page_url("mapping:service-archive", service_a)
    mine = client_for(commissioner_a)
    confirmation = form_data(mine.get(url).content)
    colleague_changes_capacity(service_a, colleague, 400)

    response = mine.post(url, confirmation)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Sam Jones changed this service" in page
    assert "The service has not been archived" in page
    assert 'href="#archive-button"' in page
    assert Service.objects.get(pk=service_a.pk).archived_at is None
    # The page now shows the service as it is; confirming from it archives it.
    assert mine.post(url, form_data(page)).status_code == 302
    assert Service.objects.get(pk=service_a.pk).archived_at is not None


def test_marking_as_checked_after_a_colleague_changed_the_service_is_refused(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    Service.objects.filter(pk=service_a.pk).update(last_checked_on=None)
    detail, checked = page_url("mapping:service-detail", service_a), page_url("mapping:service-checked", service_a)
    mine = client_for(commissioner_a)
    button = form_data(mine.get(detail).content, action=checked)
    colleague_changes_capacity(service_a, colleague, 400)

    response = mine.post(checked, button)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Sam Jones changed this service" in page
    assert "The record has not been marked as checked" in page
    assert "400 children and young people" in page  # the service as it is now
    assert Service.objects.get(pk=service_a.pk).last_checked_on is None
    assert mine.post(checked, form_data(page, action=checked)).status_code == 302
    service = Service.objects.get(pk=service_a.pk)
    assert (service.last_checked_on, service.last_checked_by) == (timezone.localdate(), commissioner_a)


def test_restoring_after_a_colleague_changed_the_archived_service_is_refused(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    services.service_archive(service=service_a, user=colleague, source="page", expected_version=1)
    detail, restore = page_url("mapping:service-detail", service_a), page_url("mapping:service-restore", service_a)
    mine = client_for(commissioner_a)
    button = form_data(mine.get(detail).content, action=restore)
    colleague_changes_capacity(service_a, colleague, 400)

    response = mine.post(restore, button)

    assert "The service has not been restored" in response.content.decode()
    assert Service.objects.get(pk=service_a.pk).archived_at is not None
    assert mine.post(restore, form_data(response.content, action=restore)).status_code == 302
    assert Service.objects.get(pk=service_a.pk).archived_at is None


def test_an_action_posted_without_a_version_is_refused_as_out_of_date(
    client_for: Any, commissioner_a: User, service_a: Service
) -> None:
    response = client_for(commissioner_a).post(page_url("mapping:service-archive", service_a))
    assert "This form is out of date. Reload the page and try again." in response.content.decode()
    assert Service.objects.get(pk=service_a.pk).archived_at is None


# Offers: one matrix cell


@pytest.mark.parametrize("htmx", [True, False], ids=["in-place", "without-javascript"])
def test_a_stale_save_of_a_matrix_cell_is_refused_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service, htmx: bool
) -> None:
    url = cell_url(service_a, "thriving")
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form = form_data(mine.get(url, **headers).content, action=url)
    their_form = form_data(theirs.get(url, **headers).content, action=url)
    assert my_form["version"] == "0"  # an empty cell

    their_save = theirs.post(url, {**their_form, "capacity_share": "20", "description": "Assemblies"}, **headers)
    assert their_save.status_code == (200 if htmx else 302)
    response = mine.post(url, {**my_form, "capacity_share": "30", "description": "Wellbeing lessons"}, **headers)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Sam Jones changed this offer in Thriving" in page
    notice = page[page.index("Saved now") :]
    assert "20" in notice and "Assemblies" in notice  # what they saved
    kept = form_data(page, action=url)
    assert (kept["capacity_share"], kept["description"]) == ("30", "Wellbeing lessons")
    offer = Offer.objects.get(service=service_a, grouping__code="thriving")
    assert (offer.capacity_share, offer.description) == (20, "Assemblies")
    if htmx:
        assert 'hx-swap-oob="true">80%' in page  # the row's total as it is now

    assert mine.post(url, kept, **headers).status_code in (200, 302)
    offer.refresh_from_db()
    assert (offer.capacity_share, offer.description) == (30, "Wellbeing lessons")


def test_removing_a_matrix_cell_a_colleague_changed_is_refused(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service, groupings: dict[str, Grouping]
) -> None:
    url = cell_url(service_a, "getting-help")
    mine = client_for(commissioner_a)
    my_form = form_data(mine.get(url, HTTP_HX_REQUEST="true").content, action=url)
    services.offer_set(
        service=service_a,
        grouping=groupings["getting-help"],
        user=colleague,
        source="page",
        capacity_share=70,
        expected_version=1,
    )
    response = mine.post(url, {**my_form, "remove": "1"}, HTTP_HX_REQUEST="true")
    assert "Sam Jones changed this offer in Getting Help" in response.content.decode()
    assert Offer.objects.get(service=service_a, grouping__code="getting-help").capacity_share == 70


# Offers: the service's mapping page


def test_a_stale_save_of_the_mapping_page_is_refused_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    url = page_url("mapping:service-offers", service_a)
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = form_data(mine.get(url).content), form_data(theirs.get(url).content)

    their_form.update({"thriving-offered": "on", "thriving-capacity_share": "20"})
    assert theirs.post(url, their_form).status_code == 302
    my_form.update({"getting-advice-offered": "on", "getting-advice-capacity_share": "30"})
    response = mine.post(url, my_form)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Sam Jones changed the THRIVE mapping of this service" in page
    notice = page[page.index('id="stale-notice"') :]
    assert "Offers Thriving" in notice and "Offers Getting Advice and Signposting" in notice
    kept = form_data(page)
    assert kept["getting-advice-capacity_share"] == "30" and "thriving-offered" not in kept
    saved = dict(Offer.objects.filter(service=service_a).values_list("grouping__code", "capacity_share"))
    assert saved == {"thriving": 20, "getting-help": 60}

    assert mine.post(url, kept).status_code == 302
    saved = dict(Offer.objects.filter(service=service_a).values_list("grouping__code", "capacity_share"))
    assert saved == {"getting-advice": 30, "getting-help": 60}


def test_a_matrix_cell_saved_by_a_colleague_makes_an_open_mapping_page_stale(
    client_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    url = page_url("mapping:service-offers", service_a)
    mine = client_for(commissioner_a)
    my_form = form_data(mine.get(url).content)
    cell = cell_url(service_a, "thriving")
    theirs = client_for(colleague)
    their_cell = form_data(theirs.get(cell).content, action=cell)
    assert theirs.post(cell, {**their_cell, "capacity_share": "10"}).status_code == 302
    my_form["getting-help-capacity_share"] = "90"
    assert "changed the THRIVE mapping" in mine.post(url, my_form).content.decode()
    assert Offer.objects.get(service=service_a, grouping__code="getting-help").capacity_share == 60


# Offers: the API


def offer_url(service: Service, code: str) -> str:
    return api_url(service, f"offers/{code}/")


def test_a_second_stale_change_to_an_offer_is_412_with_the_current_one(
    api_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    mine, theirs = api_for(commissioner_a), api_for(colleague)
    url = offer_url(service_a, "getting-help")
    read_by_me, read_by_them = mine.get(url)["ETag"], theirs.get(url)["ETag"]
    changed = theirs.put(url, {"capacity_share": 50}, format="json", HTTP_IF_MATCH=read_by_them)
    assert changed.status_code == 200

    response = mine.put(url, {"capacity_share": 80}, format="json", HTTP_IF_MATCH=read_by_me)
    assert response.status_code == 412
    body = response.json()
    assert (body["code"], body["current"]["capacity_share"]) == ("stale", 50)
    assert "Sam Jones changed this offer in Getting Help" in body["detail"]
    assert response["ETag"] == changed["ETag"] == f'"{body["current"]["version"]}"'
    assert mine.delete(url, HTTP_IF_MATCH=read_by_me).status_code == 412
    assert Offer.objects.get(service=service_a, grouping__code="getting-help").capacity_share == 50


def test_changing_or_creating_an_offer_without_a_precondition_is_428(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    existing, absent = offer_url(service_a, "getting-help"), offer_url(service_a, "thriving")
    for url in (existing, absent):
        response = client.put(url, {"capacity_share": 10}, format="json")
        assert response.status_code == 428, url
        assert "If-None-Match: *" in response.json()["detail"]
    assert client.delete(existing).status_code == 428
    saved = dict(Offer.objects.filter(service=service_a).values_list("grouping__code", "capacity_share"))
    assert saved == {"getting-help": 60}


def test_creating_an_offer_with_if_none_match_is_refused_once_someone_made_it(
    api_for: Any, commissioner_a: User, colleague: User, service_a: Service
) -> None:
    url = offer_url(service_a, "thriving")
    created = api_for(colleague).put(url, {"capacity_share": 20}, format="json", HTTP_IF_NONE_MATCH="*")
    assert (created.status_code, created.json()["capacity_share"]) == (201, 20)
    assert created["ETag"] == f'"{created.json()["version"]}"'

    response = api_for(commissioner_a).put(url, {"capacity_share": 30}, format="json", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 412
    assert response.json()["current"]["capacity_share"] == 20
    assert Offer.objects.get(service=service_a, grouping__code="thriving").capacity_share == 20


def test_an_offer_removed_and_made_again_never_reuses_a_version(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    url = offer_url(service_a, "thriving")
    first = client.put(url, {"capacity_share": 20}, format="json", HTTP_IF_NONE_MATCH="*")
    assert client.delete(url, HTTP_IF_MATCH=first["ETag"]).status_code == 204
    again = client.put(url, {"capacity_share": 20}, format="json", HTTP_IF_NONE_MATCH="*")
    assert again.status_code == 201
    assert again["ETag"] != first["ETag"]
    # A client still holding the first offer's ETag cannot change the new one.
    assert client.put(url, {"capacity_share": 5}, format="json", HTTP_IF_MATCH=first["ETag"]).status_code == 412
    assert Offer.objects.get(service=service_a, grouping__code="thriving").capacity_share == 20


def test_a_change_to_one_offer_does_not_make_another_offer_stale(
    api_for: Any, commissioner_a: User, service_a: Service
) -> None:
    client = api_for(commissioner_a)
    help_url = offer_url(service_a, "getting-help")
    etag = client.get(help_url)["ETag"]
    assert send(client, "put", offer_url(service_a, "thriving"), {"capacity_share": 10}).status_code == 201
    assert client.put(help_url, {"capacity_share": 50}, format="json", HTTP_IF_MATCH=etag).status_code == 200
