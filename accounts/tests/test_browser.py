"""Signing in and looking after a password in Debian's Chromium, with an axe-core
check of every page on the way."""

import re
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import User
from sites.models import Site
from tests.browser import screenshot, serious_accessibility_violations, sign_in
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "quiet-lantern-over-the-moor"


def looked_at(page: Page, name: str) -> None:
    assert serious_accessibility_violations(page) == [], name
    screenshot(page, name)


def test_a_person_who_forgot_their_password_resets_it_by_email_and_signs_in(page: Page, live_server: Any) -> None:
    UserFactory(username="river", first_name="River", email="river@example.org")

    page.goto(live_server.url + reverse("login"))
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    page.get_by_role("button", name="Send the link").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter your email address")
    summary.get_by_role("link", name="Enter your email address").click()
    expect(page.get_by_label("Email address")).to_be_focused()
    looked_at(page, "password-reset-ask-error")

    page.get_by_label("Email address").fill("river@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    looked_at(page, "password-reset-sent")

    link = re.search(r"https?://\S+/accounts/password/reset/\S+/", mail.outbox[0].body)
    assert link
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill("quiet-lantern-over-the-sea")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The new passwords do not match")
    looked_at(page, "password-reset-choose-error")

    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("heading", name="Password reset")).to_be_visible()
    looked_at(page, "password-reset-complete")

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill("river")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your sites")).to_be_visible()

    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="This link no longer works")).to_be_visible()
    looked_at(page, "password-reset-link-used")


def test_a_signed_in_person_changes_their_password_from_the_header(
    page: Page, live_server: Any, viewer_a: User
) -> None:
    sign_in(page, live_server.url, "viewer-a", PASSWORD)

    page.get_by_role("link", name="Change password").click()
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password", exact=True).fill("Tulip-Road9")
    page.get_by_label("Confirm new password").fill("Tulip-Road9")
    page.get_by_role("button", name="Change password").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The current password you entered is wrong")
    expect(summary).to_contain_text("at least 12 characters")
    looked_at(page, "password-change-errors")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    looked_at(page, "password-change-done")


def test_the_sign_in_page_links_the_reset_the_lockout_page_is_plain_and_the_favicon_is_ours(
    page: Page, live_server: Any, viewer_a: User
) -> None:
    favicon = page.request.get(live_server.url + "/favicon.ico")
    assert favicon.status == 200
    assert favicon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")

    page.goto(live_server.url + reverse("login"))
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    looked_at(page, "sign-in")
    for _ in range(5):
        page.get_by_label("Username").fill("viewer-a")
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()
    expect(page.get_by_text("Wait 15 minutes before you try again")).to_be_visible()
    looked_at(page, "sign-in-locked-out")


def test_a_reader_sees_the_403_and_404_pages_in_the_layout(
    page: Page, live_server: Any, viewer_a: User, site_a: Site
) -> None:
    sign_in(page, live_server.url, "viewer-a", PASSWORD)

    page.goto(live_server.url + reverse("mapping:service-create", kwargs={"site_slug": site_a.slug}))
    expect(page.get_by_role("heading", name="You cannot change this site's data")).to_be_visible()
    looked_at(page, "error-403-reader")
    page.get_by_role("link", name="Back to the site's overview").click()
    expect(page).to_have_url(live_server.url + reverse("sites:overview", kwargs={"site_slug": site_a.slug}))

    page.goto(live_server.url + "/sites/no-such-site/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    looked_at(page, "error-404")
