"""Browser journeys in Debian's Chromium, and an axe-core check of every page."""

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from mapping import services
from mapping.models import Service
from sites.models import Site
from tests.browser import screenshot, serious_accessibility_violations, sign_in
from tests.factories import PASSWORD, OfferFactory, OrganisationFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_commissioner_registers_maps_and_sees_a_service_on_the_overview(
    page: Page, live_server: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    OrganisationFactory(site=site_a, name="Northbridge Youth Trust", sector="voluntary")
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    expect(page.get_by_role("heading", name="Your sites")).to_be_visible()

    page.get_by_role("link", name="Northbridge").click()
    page.get_by_role("link", name="Services").click()
    page.get_by_role("link", name="Register a service").click()

    page.get_by_label("Name", exact=True).fill("Youth Wellbeing Drop-in")
    page.get_by_label("Organisation").select_option(label="Northbridge Youth Trust")
    page.get_by_label("Sector").select_option(label="Voluntary and community")
    page.get_by_label("Minimum age").fill("11")
    page.get_by_label("Maximum age").fill("9")
    page.get_by_label("Self-referral").check()
    page.get_by_label("Annual capacity").fill("300")
    page.get_by_role("button", name="Register service").click()

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Maximum age must be the same as or more than the minimum age")
    summary.get_by_role("link", name="Maximum age must be").click()
    expect(page.get_by_label("Maximum age")).to_be_focused()
    page.get_by_label("Maximum age").fill("18")
    page.get_by_role("button", name="Register service").click()

    expect(page.get_by_role("heading", name="Map the service to THRIVE groupings")).to_be_visible()
    page.get_by_label("The service offers Getting Advice and Signposting").check()
    page.locator("#id_getting-advice-capacity_share").fill("40")
    page.locator("#id_getting-advice-description").fill("Drop-in advice sessions")
    page.get_by_label("The service offers Getting Help").check()
    page.locator("#id_getting-help-capacity_share").fill("60")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.get_by_text("The THRIVE mapping of Youth Wellbeing Drop-in has been saved")).to_be_visible()

    page.get_by_role("link", name="Northbridge").first.click()
    chart = page.locator("svg.app-overview-chart")
    expect(chart).to_contain_text("120 a year · 1 service")
    expect(chart).to_contain_text("180 a year · 1 service")
    screenshot(page, "journey-overview")


def test_matrix_cell_is_edited_in_place_with_the_keyboard(
    page: Page, live_server: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    service = ServiceFactory(site=site_a, name="School Nursing")
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=50)
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    page.goto(live_server.url + reverse("mapping:matrix", kwargs={"site_slug": site_a.slug}))

    page.get_by_role("link", name="Add School Nursing in Thriving").focus()
    page.keyboard.press("Enter")
    share = page.get_by_label("Share (%) of School Nursing in Thriving")
    expect(share).to_be_focused()
    share.fill("70")
    page.keyboard.press("Enter")
    expect(page.locator(".app-matrix__form .govuk-error-message")).to_contain_text("would add up to 120%")
    share = page.get_by_label("Share (%) of School Nursing in Thriving")
    share.fill("30")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Edit School Nursing in Thriving")).to_be_focused()
    expect(page.locator(f"#total-{service.public_id}")).to_have_text("80%")
    assert service.offers.get(grouping__code="thriving").capacity_share == 30
    assert page.url.endswith(reverse("mapping:matrix", kwargs={"site_slug": site_a.slug}))


def test_every_page_passes_axe_with_no_serious_or_critical_violations(
    page: Page, live_server: Any, commissioner_a: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    service: Service = ServiceFactory(site=site_a, name="CAMHS Getting More Help")
    OfferFactory(service=service, grouping=groupings["getting-more-help"], capacity_share=80)
    ServiceFactory(site=site_a, name="Unmapped Youth Club")
    slug = {"site_slug": site_a.slug}
    one = {**slug, "public_id": service.public_id}
    pages = {
        "home": reverse("home"),
        "overview": reverse("sites:overview", kwargs=slug),
        "service-list": reverse("mapping:service-list", kwargs=slug),
        "service-detail": reverse("mapping:service-detail", kwargs=one),
        "service-create": reverse("mapping:service-create", kwargs=slug),
        "service-edit": reverse("mapping:service-edit", kwargs=one),
        "service-offers": reverse("mapping:service-offers", kwargs=one),
        "service-archive": reverse("mapping:service-archive", kwargs=one),
        "matrix": reverse("mapping:matrix", kwargs=slug),
        "matrix-cell": reverse("mapping:matrix-cell", kwargs={**one, "grouping_code": "thriving"}),
        "organisation-list": reverse("mapping:organisation-list", kwargs=slug),
        "organisation-create": reverse("mapping:organisation-create", kwargs=slug),
        "api-docs": reverse("swagger-ui"),
    }
    page.goto(live_server.url + reverse("login"))
    problems = {"login": serious_accessibility_violations(page)}
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    for name, path in pages.items():
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        problems[name] = serious_accessibility_violations(page)
        screenshot(page, f"page-{name}")

    # Pages in their error and in-place editing states too.
    page.goto(live_server.url + pages["service-create"])
    page.get_by_role("button", name="Register service").click()
    problems["service-create-errors"] = serious_accessibility_violations(page)
    screenshot(page, "page-service-create-errors")
    page.goto(live_server.url + pages["matrix"])
    page.get_by_role("link", name="Add CAMHS Getting More Help in Thriving").click()
    expect(page.get_by_label("Share (%) of CAMHS Getting More Help in Thriving")).to_be_visible()
    problems["matrix-editing"] = serious_accessibility_violations(page)
    screenshot(page, "page-matrix-editing")

    assert {name: found for name, found in problems.items() if found} == {}


def test_a_stale_matrix_cell_shows_what_the_colleague_saved_and_keeps_what_was_typed(
    page: Page, live_server: Any, commissioner_a: User, colleague: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    service = ServiceFactory(site=site_a, name="School Nursing")
    OfferFactory(service=service, grouping=groupings["getting-help"], capacity_share=50)
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    page.goto(live_server.url + reverse("mapping:matrix", kwargs={"site_slug": site_a.slug}))
    page.get_by_role("link", name="Add School Nursing in Thriving").click()
    share = page.get_by_label("Share (%) of School Nursing in Thriving")
    expect(share).to_be_focused()

    # Meanwhile a colleague fills the same cell.
    services.offer_set(
        service=service,
        grouping=groupings["thriving"],
        user=colleague,
        source="page",
        capacity_share=20,
        description="Assemblies",
        expected_version=0,
    )
    share.fill("30")
    page.get_by_label("Offer of School Nursing in Thriving").fill("Wellbeing lessons")
    page.get_by_role("button", name="Save School Nursing in Thriving").click()

    cell_form = page.locator(".app-matrix__form")
    expect(cell_form.get_by_role("alert")).to_contain_text("Sam Jones changed this offer in Thriving")
    expect(cell_form).to_contain_text("Saved now: 20% – Assemblies")
    expect(page.get_by_label("Share (%) of School Nursing in Thriving")).to_have_value("30")
    expect(page.locator(f"#total-{service.public_id}")).to_have_text("70%")
    problems = serious_accessibility_violations(page)
    screenshot(page, "page-matrix-stale-cell")
    assert problems == []

    page.get_by_role("button", name="Save School Nursing in Thriving").click()
    expect(page.get_by_role("link", name="Edit School Nursing in Thriving")).to_be_focused()
    expect(page.locator(f"#total-{service.public_id}")).to_have_text("80%")


def test_refused_and_filtered_register_pages_pass_axe(
    page: Page, live_server: Any, commissioner_a: User, colleague: User, site_a: Site, groupings: dict[str, Any]
) -> None:
    service: Service = ServiceFactory(site=site_a, name="CAMHS Getting More Help", annual_capacity=300)
    OfferFactory(service=service, grouping=groupings["getting-more-help"], capacity_share=80)
    ServiceFactory(site=site_a, name="Closed Helpline", archived_at=timezone.now())
    ServiceFactory(site=site_a, name="Planned Hub", status="planned")
    slug = {"site_slug": site_a.slug}
    one = {**slug, "public_id": service.public_id}
    sign_in(page, live_server.url, "commissioner-a", PASSWORD)
    problems = {}

    page.goto(live_server.url + reverse("mapping:service-edit", kwargs=one))
    services.service_update(
        service=service, user=colleague, source="page", data={"annual_capacity": 400}, expected_version=1
    )
    page.get_by_label("Annual capacity").fill("900")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Sam Jones changed this service")
    expect(page.locator("#stale-notice")).to_contain_text("400")
    expect(page.get_by_label("Annual capacity")).to_have_value("900")
    problems["service-edit-stale"] = serious_accessibility_violations(page)
    screenshot(page, "page-service-edit-stale")

    page.goto(live_server.url + reverse("mapping:service-offers", kwargs=one))
    services.offer_set(
        service=service,
        grouping=groupings["thriving"],
        user=colleague,
        source="page",
        capacity_share=10,
        expected_version=0,
    )
    page.get_by_label("The service offers Getting Help").check()
    page.locator("#id_getting-help-capacity_share").fill("20")
    page.get_by_role("button", name="Save mapping").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Sam Jones changed the THRIVE mapping")
    expect(page.locator("#stale-notice")).to_contain_text("Offers Thriving")
    expect(page.locator("#id_getting-help-capacity_share")).to_have_value("20")
    problems["service-offers-stale"] = serious_accessibility_violations(page)
    screenshot(page, "page-service-offers-stale")

    page.goto(live_server.url + reverse("mapping:service-archive", kwargs=one))
    services.service_update(
        service=service, user=colleague, source="page", data={"annual_capacity": 500}, expected_version=2
    )
    page.get_by_role("button", name="Archive service").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Sam Jones changed this service")
    problems["service-archive-refused"] = serious_accessibility_violations(page)
    screenshot(page, "page-service-archive-refused")

    page.goto(live_server.url + reverse("mapping:service-list", kwargs=slug))
    page.get_by_label("Archived").select_option(label="Archived only")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status")).to_have_text("1 archived service matches your filters")
    problems["service-list-archived"] = serious_accessibility_violations(page)
    screenshot(page, "page-service-list-archived")
    page.get_by_role("button", name="Restore Closed Helpline").click()
    expect(page.get_by_text("Closed Helpline has been restored to the register")).to_be_visible()

    page.goto(live_server.url + reverse("mapping:service-list", kwargs=slug) + "?grouping=nope&age=old")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose a THRIVE grouping from the list")
    summary.get_by_role("link", name="Age must be a whole number").click()
    expect(page.get_by_label("Serves age")).to_be_focused()
    problems["service-list-bad-filter"] = serious_accessibility_violations(page)
    screenshot(page, "page-service-list-bad-filter")

    page.goto(live_server.url + reverse("sites:overview", kwargs=slug))
    expect(page.locator("#counting-rule")).to_contain_text("1 planned service is in the register but not counted")
    problems["overview-counting-rule"] = serious_accessibility_violations(page)
    screenshot(page, "page-overview-counting-rule")

    assert {name: found for name, found in problems.items() if found} == {}
