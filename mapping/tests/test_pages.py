"""Every page of the register and mapping, for every persona: the commissioner of the
site, the commissioner of another site, a site viewer, a programme reviewer and an
anonymous visitor."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from mapping.models import Offer, Organisation, Service
from sites.models import Membership, Role, Site
from tests.factories import MembershipFactory, OfferFactory, OrganisationFactory, ServiceFactory, UserFactory
from tests.pages import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def service_a(site_a: Site) -> Service:
    service = ServiceFactory(site=site_a, name="Northbridge School Counselling")
    OfferFactory(service=service, capacity_share=60)
    return service


def read_urls(site: Site, service: Service) -> list[str]:
    kwargs = {"site_slug": site.slug, "public_id": service.public_id}
    return [
        reverse("sites:overview", kwargs={"site_slug": site.slug}),
        reverse("mapping:service-list", kwargs={"site_slug": site.slug}),
        reverse("mapping:service-detail", kwargs=kwargs),
        reverse("mapping:matrix", kwargs={"site_slug": site.slug}),
        reverse("mapping:organisation-list", kwargs={"site_slug": site.slug}),
    ]


def edit_urls(site: Site, service: Service) -> list[str]:
    kwargs = {"site_slug": site.slug, "public_id": service.public_id}
    return [
        reverse("mapping:service-create", kwargs={"site_slug": site.slug}),
        reverse("mapping:service-edit", kwargs=kwargs),
        reverse("mapping:service-offers", kwargs=kwargs),
        reverse("mapping:service-archive", kwargs=kwargs),
        reverse("mapping:organisation-create", kwargs={"site_slug": site.slug}),
        reverse(
            "mapping:organisation-edit",
            kwargs={"site_slug": site.slug, "public_id": service.organisation.public_id},
        ),
    ]


def post_urls(site: Site, service: Service) -> list[str]:
    kwargs = {"site_slug": site.slug, "public_id": service.public_id}
    return [
        *edit_urls(site, service),
        reverse("mapping:service-checked", kwargs=kwargs),
        reverse("mapping:service-restore", kwargs=kwargs),
        reverse("mapping:matrix-cell", kwargs={**kwargs, "grouping_code": "thriving"}),
    ]


def test_commissioner_can_open_every_page_of_their_site(
    client_for: Any, commissioner_a: User, site_a: Site, service_a: Service
) -> None:
    client = client_for(commissioner_a)
    for url in [*read_urls(site_a, service_a), *edit_urls(site_a, service_a)]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer", "reviewer_commissioning_a"])
def test_readers_see_pages_but_cannot_open_edit_pages(
    request: pytest.FixtureRequest, persona: str, client_for: Any, site_a: Site, service_a: Service
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for url in read_urls(site_a, service_a):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Register a service" not in response.content.decode()
    for url in edit_urls(site_a, service_a):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("persona", ["viewer_a", "reviewer", "reviewer_commissioning_a"])
def test_readers_cannot_change_anything(
    request: pytest.FixtureRequest, persona: str, client_for: Any, site_a: Site, service_a: Service
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for url in post_urls(site_a, service_a):
        assert client.post(url, {"name": "Changed", "capacity_share": "10"}).status_code == 403, url
    service_a.refresh_from_db()
    assert service_a.name == "Northbridge School Counselling"
    assert service_a.archived_at is None


def test_commissioner_of_another_site_gets_404_everywhere(
    client_for: Any, commissioner_b: User, site_a: Site, service_a: Service
) -> None:
    client = client_for(commissioner_b)
    for url in [*read_urls(site_a, service_a), *edit_urls(site_a, service_a)]:
        assert client.get(url).status_code == 404, url
    for url in post_urls(site_a, service_a):
        assert client.post(url, {"name": "Changed"}).status_code == 404, url
    service_a.refresh_from_db()
    assert service_a.name == "Northbridge School Counselling"


def test_commissioner_of_another_site_gets_404_for_a_service_of_site_a_under_their_own_site(
    client_for: Any, commissioner_b: User, site_b: Site, service_a: Service
) -> None:
    url = reverse("mapping:service-detail", kwargs={"site_slug": site_b.slug, "public_id": service_a.public_id})
    assert client_for(commissioner_b).get(url).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(site_a: Site, service_a: Service) -> None:
    client = Client()
    for url in [*read_urls(site_a, service_a), *edit_urls(site_a, service_a), reverse("home")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_home_lists_only_the_sites_a_person_belongs_to(
    client_for: Any, commissioner_a: User, site_a: Site, site_b: Site
) -> None:
    page = client_for(commissioner_a).get(reverse("home")).content.decode()
    assert "Northbridge" in page
    assert "Eastmere" not in page


def test_programme_reviewer_sees_every_site_on_home(
    client_for: Any, reviewer: User, site_a: Site, site_b: Site
) -> None:
    page = client_for(reviewer).get(reverse("home")).content.decode()
    assert "Northbridge" in page and "Eastmere" in page


def test_the_admin_refuses_to_make_a_programme_reviewer_a_commissioner(
    admin_client: Client, reviewer: User, site_a: Site
) -> None:
    form = {"user": reviewer.pk, "site": site_a.pk, "role": Role.COMMISSIONER}
    response = admin_client.post(reverse("admin:sites_membership_add"), form)
    assert response.status_code == 200
    assert "is a programme reviewer: they read every site and change none" in response.content.decode()
    assert not Membership.objects.filter(user=reviewer).exists()
    response = admin_client.post(reverse("admin:sites_membership_add"), {**form, "role": Role.VIEWER})
    assert response.status_code == 302
    assert Membership.objects.get(user=reviewer).role == Role.VIEWER


def test_a_reviewer_with_a_commissioner_membership_is_shown_as_a_programme_reviewer(
    client_for: Any, reviewer_commissioning_a: User, site_a: Site
) -> None:
    page = client_for(reviewer_commissioning_a).get(reverse("sites:overview", kwargs={"site_slug": site_a.slug}))
    assert "Programme reviewer" in page.content.decode()


def service_form_data(organisation: Organisation, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Kooth-style online counselling",
        "organisation": organisation.pk,
        "sector": "digital",
        "description": "Anonymous online counselling and forums.",
        "status": "active",
        "min_age": "11",
        "max_age": "25",
        "annual_capacity": "1200",
        "typical_wait_weeks": "0",
        "referral_routes": [],
        "delivery_settings": [],
    }
    data.update(overrides)
    return data


def test_commissioner_registers_a_service_and_is_taken_to_map_it(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    organisation = OrganisationFactory(site=site_a)
    response = client_for(commissioner_a).post(
        reverse("mapping:service-create", kwargs={"site_slug": site_a.slug}), service_form_data(organisation)
    )
    service = Service.objects.get(name="Kooth-style online counselling")
    assert service.site == site_a
    assert service.last_checked_by == commissioner_a
    assert response.status_code == 302
    assert response.url == reverse(
        "mapping:service-offers", kwargs={"site_slug": site_a.slug, "public_id": service.public_id}
    )


def test_service_form_shows_clear_messages_and_saves_nothing(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    organisation = OrganisationFactory(site=site_a)
    response = client_for(commissioner_a).post(
        reverse("mapping:service-create", kwargs={"site_slug": site_a.slug}),
        service_form_data(organisation, name="", min_age="16", max_age="12", website="not a web address"),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "Enter the service&#x27;s name" in page
    assert "Maximum age must be the same as or more than the minimum age" in page
    assert "Enter a web address in the correct format" in page
    assert not Service.objects.exists()


def test_service_form_rejects_an_organisation_of_another_site(
    client_for: Any, commissioner_a: User, site_a: Site, site_b: Site
) -> None:
    foreign = OrganisationFactory(site=site_b)
    response = client_for(commissioner_a).post(
        reverse("mapping:service-create", kwargs={"site_slug": site_a.slug}), service_form_data(foreign)
    )
    assert response.status_code == 200
    assert "Choose an organisation from this site&#x27;s register" in response.content.decode()
    assert not Service.objects.exists()


def test_mapping_a_service_to_two_groupings_shows_on_its_page_and_history(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    service = ServiceFactory(site=site_a)
    client = client_for(commissioner_a)
    kwargs = {"site_slug": site_a.slug, "public_id": service.public_id}
    response = client.post(
        reverse("mapping:service-offers", kwargs=kwargs),
        {
            "mapping_version": service.mapping_version,
            "getting-advice-offered": "on",
            "getting-advice-capacity_share": "30",
            "getting-advice-description": "Drop-in advice",
            "getting-help-offered": "on",
            "getting-help-capacity_share": "70",
            "getting-help-description": "Six sessions of CBT",
        },
    )
    assert response.status_code == 302
    assert sorted(service.offers.values_list("grouping__code", "capacity_share")) == [
        ("getting-advice", 30),
        ("getting-help", 70),
    ]
    page = client.get(reverse("mapping:service-detail", kwargs=kwargs)).content.decode()
    assert "Six sessions of CBT" in page
    history_url = reverse("activity:service-history", kwargs=kwargs)
    assert history_url in page
    history = client.get(history_url).content.decode()
    assert "Mapped to Getting Help" in history
    assert "through the website" in history
    assert commissioner_a.get_full_name() in history


def test_shares_above_100_are_refused_with_a_clear_message(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    service = ServiceFactory(site=site_a)
    OfferFactory(service=service, capacity_share=40)
    response = client_for(commissioner_a).post(
        reverse("mapping:service-offers", kwargs={"site_slug": site_a.slug, "public_id": service.public_id}),
        {
            "mapping_version": service.mapping_version,
            "getting-help-offered": "on",
            "getting-help-capacity_share": "60",
            "getting-more-help-offered": "on",
            "getting-more-help-capacity_share": "50",
        },
    )
    assert response.status_code == 200
    assert "would add up to 110%" in response.content.decode()
    assert list(service.offers.values_list("capacity_share", flat=True)) == [40]


def test_a_ticked_grouping_needs_a_share(client_for: Any, commissioner_a: User, site_a: Site) -> None:
    service = ServiceFactory(site=site_a)
    response = client_for(commissioner_a).post(
        reverse("mapping:service-offers", kwargs={"site_slug": site_a.slug, "public_id": service.public_id}),
        {"mapping_version": service.mapping_version, "thriving-offered": "on", "thriving-capacity_share": ""},
    )
    assert "Enter the share of capacity the service gives to Thriving" in response.content.decode()
    assert not service.offers.exists()


def test_matrix_cell_saves_in_place_and_updates_the_row_total(
    client_for: Any, commissioner_a: User, site_a: Site, service_a: Service
) -> None:
    url = reverse(
        "mapping:matrix-cell",
        kwargs={"site_slug": site_a.slug, "public_id": service_a.public_id, "grouping_code": "thriving"},
    )
    response = client_for(commissioner_a).post(
        url, {"capacity_share": "25", "description": "Assemblies", "version": "0"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "25%" in page
    assert 'hx-swap-oob="true">85%' in page
    assert Offer.objects.get(service=service_a, grouping__code="thriving").capacity_share == 25


def test_matrix_cell_refuses_a_share_that_takes_the_service_past_100(
    client_for: Any, commissioner_a: User, site_a: Site, service_a: Service
) -> None:
    url = reverse(
        "mapping:matrix-cell",
        kwargs={"site_slug": site_a.slug, "public_id": service_a.public_id, "grouping_code": "thriving"},
    )
    response = client_for(commissioner_a).post(url, {"capacity_share": "50", "version": "0"}, HTTP_HX_REQUEST="true")
    assert "would add up to 110%" in response.content.decode()
    assert not Offer.objects.filter(service=service_a, grouping__code="thriving").exists()


def test_matrix_cell_without_javascript_is_a_page_that_returns_to_the_matrix(
    client_for: Any, commissioner_a: User, site_a: Site, service_a: Service
) -> None:
    url = reverse(
        "mapping:matrix-cell",
        kwargs={"site_slug": site_a.slug, "public_id": service_a.public_id, "grouping_code": "getting-help"},
    )
    client = client_for(commissioner_a)
    assert "Share (%)" in client.get(url).content.decode()
    response = client.post(url, {**form_data(client.get(url).content), "remove": "1"})
    assert response.status_code == 302
    assert not service_a.offers.exists()


def test_archived_service_leaves_the_register_and_keeps_its_page(
    client_for: Any, commissioner_a: User, site_a: Site, service_a: Service
) -> None:
    client = client_for(commissioner_a)
    kwargs = {"site_slug": site_a.slug, "public_id": service_a.public_id}
    client.post(reverse("mapping:service-archive", kwargs=kwargs), {"version": service_a.version})
    listing = client.get(reverse("mapping:service-list", kwargs={"site_slug": site_a.slug})).content.decode()
    assert reverse("mapping:service-detail", kwargs=kwargs) not in listing
    assert "has no services registered yet" in listing
    detail = client.get(reverse("mapping:service-detail", kwargs=kwargs)).content.decode()
    assert "This service was archived" in detail
    history_url = reverse("activity:service-history", kwargs=kwargs)
    assert history_url in detail
    assert "Service archived" in client.get(history_url).content.decode()


def test_service_list_filters_by_grouping_age_and_staleness(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    import datetime

    from django.utils import timezone

    young = ServiceFactory(site=site_a, name="Early years wellbeing", min_age=0, max_age=4)
    OfferFactory(service=young, grouping=groupings["thriving"])
    stale = ServiceFactory(
        site=site_a, name="Old record", last_checked_on=timezone.localdate() - datetime.timedelta(days=400)
    )
    OfferFactory(service=stale, grouping=groupings["getting-help"])
    url = reverse("mapping:service-list", kwargs={"site_slug": site_a.slug})
    client = client_for(commissioner_a)

    by_grouping = client.get(url, {"grouping": "thriving"}).content.decode()
    assert "Early years wellbeing" in by_grouping and "Old record" not in by_grouping
    by_age = client.get(url, {"age": "3"}).content.decode()
    assert "Early years wellbeing" in by_age and "Old record" not in by_age
    by_stale = client.get(url, {"stale": "true"}).content.decode()
    assert "Old record" in by_stale and "Early years wellbeing" not in by_stale
    bad_age = client.get(url, {"age": "99"}).content.decode()
    assert "Age must be 25 or less" in bad_age


def test_overview_shows_groupings_in_thrive_order_with_counts_and_unmapped_services(
    client_for: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    mapped = ServiceFactory(site=site_a, annual_capacity=400, sector="voluntary")
    OfferFactory(service=mapped, grouping=groupings["getting-risk-support"], capacity_share=25)
    ServiceFactory(site=site_a, name="Unmapped youth club")
    page = client_for(commissioner_a).get(reverse("sites:overview", kwargs={"site_slug": site_a.slug})).content.decode()
    positions = [page.index(g.label) for g in groupings.values()]
    assert positions == sorted(positions)
    assert "Getting Risk Support: 100 a year from 1 service" in page
    assert "Unmapped youth club" in page


def test_overview_figures_per_grouping_match_hand_counts(site_a: Site, groupings: dict[str, Any]) -> None:
    from django.utils import timezone

    from mapping.selectors import site_overview

    help_, thriving = groupings["getting-help"], groupings["thriving"]
    young = ServiceFactory(site=site_a, annual_capacity=333, sector="nhs", min_age=5, max_age=10)
    OfferFactory(service=young, grouping=help_, capacity_share=50)  # 166.5, counted as 166
    OfferFactory(service=young, grouping=thriving, capacity_share=30)  # 99.9, counted as 99
    unknown = ServiceFactory(site=site_a, annual_capacity=None, sector="education", min_age=11, max_age=16)
    OfferFactory(service=unknown, grouping=help_, capacity_share=100)  # capacity not known: 0
    older = ServiceFactory(site=site_a, annual_capacity=1000, sector="nhs", min_age=12, max_age=18)
    OfferFactory(service=older, grouping=help_, capacity_share=10)  # 100
    # Neither a decommissioned nor an archived service counts.
    closed = ServiceFactory(site=site_a, annual_capacity=5000, sector="voluntary", min_age=0, max_age=25)
    closed.status = "decommissioned"
    closed.save()
    OfferFactory(service=closed, grouping=help_, capacity_share=100)
    archived = ServiceFactory(site=site_a, sector="digital", min_age=0, max_age=25, archived_at=timezone.now())
    OfferFactory(service=archived, grouping=help_, capacity_share=100)

    summaries = {s.grouping.code: s for s in site_overview(site=site_a).groupings}
    assert list(summaries) == list(groupings)
    figures = summaries["getting-help"]
    assert (figures.services, figures.capacity, figures.sectors) == (3, 266, ["Education", "NHS"])
    assert (figures.youngest, figures.oldest) == (5, 18)
    assert figures.bands_covered == ["5 to 10", "11 to 16", "17 to 19"]
    assert figures.bands_missing == ["0 to 4", "20 to 25"]
    figures = summaries["thriving"]
    assert (figures.services, figures.capacity, figures.sectors, figures.bands_covered) == (1, 99, ["NHS"], ["5 to 10"])
    figures = summaries["getting-risk-support"]
    assert (figures.services, figures.capacity, figures.sectors, figures.youngest) == (0, 0, [], None)
    assert figures.bands_covered == [] and len(figures.bands_missing) == 5


@pytest.mark.parametrize("page_name", ["mapping:service-list", "mapping:matrix", "sites:overview"])
def test_page_query_count_does_not_grow_with_the_number_of_services(
    page_name: str, commissioner_a: User, site_a: Site, groupings: dict[str, Any], client_for: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(commissioner_a)
    url = reverse(page_name, kwargs={"site_slug": site_a.slug})

    def add_services(count: int) -> None:
        for _ in range(count):
            service = ServiceFactory(site=site_a)
            OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=50)
            OfferFactory(service=service, grouping=groupings["thriving"], capacity_share=20)

    def queries() -> int:
        client.get(url)  # warm the session and any per-process caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    add_services(5)
    at_5 = queries()
    add_services(45)
    assert queries() == at_5


def test_registering_a_service_with_routes_is_one_entry_in_its_history(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    from mapping.models import ReferralRoute

    organisation = OrganisationFactory(site=site_a)
    client = client_for(commissioner_a)
    route = ReferralRoute.objects.get(code="self")
    client.post(
        reverse("mapping:service-create", kwargs={"site_slug": site_a.slug}),
        service_form_data(organisation, referral_routes=[route.pk]),
    )
    service = Service.objects.get()
    page = client.get(
        reverse("activity:service-history", kwargs={"site_slug": site_a.slug, "public_id": service.public_id})
    ).content.decode()
    assert page.count("Service registered") == 1
    assert "Service changed" not in page
    assert "Referral routes: Self-referral" in page


def test_overview_lists_the_first_unmapped_services_and_links_to_all_of_them(
    client_for: Any, commissioner_a: User, site_a: Site
) -> None:
    for number in range(12):
        ServiceFactory(site=site_a, name=f"Unmapped {number:02d}")
    mapped = ServiceFactory(site=site_a, name="Mapped one")
    OfferFactory(service=mapped)
    client = client_for(commissioner_a)
    page = client.get(reverse("sites:overview", kwargs={"site_slug": site_a.slug})).content.decode()
    assert "12 services in the register are not mapped" in page
    assert "Unmapped 09" in page and "Unmapped 10" not in page
    listing_url = reverse("mapping:service-list", kwargs={"site_slug": site_a.slug}) + "?mapped=false"
    assert listing_url in page
    listing = client.get(listing_url).content.decode()
    assert "12 services match your filters" in listing
    assert "Mapped one" not in listing


def test_a_stale_save_of_an_organisation_is_refused_showing_what_the_colleague_saved(
    client_for: Any, commissioner_a: User, site_a: Site, service_a: Service
) -> None:
    colleague = UserFactory(username="colleague", first_name="Sam", last_name="Jones")
    MembershipFactory(user=colleague, site=site_a, role=Role.COMMISSIONER)
    url = reverse(
        "mapping:organisation-edit", kwargs={"site_slug": site_a.slug, "public_id": service_a.organisation.public_id}
    )
    mine, theirs = client_for(commissioner_a), client_for(colleague)
    my_form, their_form = form_data(mine.get(url).content), form_data(theirs.get(url).content)

    their_form["website"] = "https://theirs.example.org"
    assert theirs.post(url, their_form).status_code == 302
    my_form["website"] = "https://mine.example.org"
    response = mine.post(url, my_form)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Sam Jones changed this organisation" in page
    assert "https://theirs.example.org" in page  # what they saved, in the comparison
    assert form_data(page)["website"] == "https://mine.example.org"  # what I typed, kept
    organisation = Organisation.objects.get(pk=service_a.organisation.pk)
    assert organisation.website == "https://theirs.example.org"

    # Saving again after seeing their change is a deliberate choice, and is applied.
    assert mine.post(url, form_data(page)).status_code == 302
    organisation.refresh_from_db()
    assert (organisation.website, organisation.version) == ("https://mine.example.org", 3)
