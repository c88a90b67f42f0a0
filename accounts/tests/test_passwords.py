"""Changing a password, and resetting a forgotten one by email, with Django's own
views: the whole journey, through the mail Django sends."""

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-lantern-over-the-moor"


def sign_in(client: Client, username: str, password: str) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password})


def reset_link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://testserver(/accounts/password/reset/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def error_summary(response: Any) -> str:
    page = response.content.decode()
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.DOTALL)
    assert match, page
    return match.group(0)


@pytest.fixture
def river(db: Any) -> User:
    return UserFactory(username="river", first_name="River", last_name="Song", email="river@example.org")


def test_the_sign_in_page_offers_a_way_to_reset_a_forgotten_password(client: Client) -> None:
    page = client.get(reverse("login")).content.decode()

    assert f'href="{reverse("password_reset")}">Forgot your password?</a>' in page


def test_a_signed_out_person_resets_their_password_by_email_and_signs_in_with_the_new_one(
    client: Client, river: User
) -> None:
    asked = client.post(reverse("password_reset"), {"email": "river@example.org"}, follow=True)

    assert asked.redirect_chain == [(reverse("password_reset_done"), 302)]
    assert "Check your email" in asked.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["river@example.org"]
    assert message.subject == "Reset your THRIVE Mapper password"
    assert "Your username is river." in message.body
    assert "The link works once, for 3\xa0days." in message.body

    link = reset_link(message)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True)

    assert done.redirect_chain == [(reverse("password_reset_complete"), 302)]
    assert "You can now sign in with your new password" in done.content.decode()
    assert sign_in(Client(), "river", PASSWORD).status_code == 200
    signed_in = Client()
    assert sign_in(signed_in, "river", NEW_PASSWORD).status_code == 302
    assert signed_in.session["_auth_user_id"] == str(river.pk)

    used_again = Client().get(link, follow=True).content.decode()
    assert "This link no longer works" in used_again
    assert "Choose a new password" not in used_again


def test_an_unknown_address_gets_the_same_page_and_no_email(client: Client, river: User) -> None:
    known = client.post(reverse("password_reset"), {"email": "river@example.org"})
    mail.outbox.clear()
    unknown = Client().post(reverse("password_reset"), {"email": "nobody@example.org"})

    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert mail.outbox == []


def test_a_deactivated_account_is_sent_no_reset_link(client: Client, river: User) -> None:
    river.is_active = False
    river.save()

    response = client.post(reverse("password_reset"), {"email": "river@example.org"})

    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter your email address"),
        ("river-at-example", "Enter an email address in the correct format, like name@example.org"),
    ],
)
def test_a_missing_or_malformed_address_is_shown_as_an_error(client: Client, email: str, message: str) -> None:
    response = client.post(reverse("password_reset"), {"email": email})

    assert response.status_code == 200
    assert message in error_summary(response)
    assert mail.outbox == []


def test_a_reset_link_refuses_a_new_password_that_is_too_short_and_stays_usable(client: Client, river: User) -> None:
    client.post(reverse("password_reset"), {"email": "river@example.org"})
    set_password_url = client.get(reset_link(mail.outbox[0]), follow=True).redirect_chain[-1][0]

    refused = client.post(set_password_url, {"new_password1": "Tulip-Road9", "new_password2": "Tulip-Road9"})
    accepted = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert refused.status_code == 200
    assert "It must contain at least 12 characters" in error_summary(refused)
    assert accepted["Location"] == reverse("password_reset_complete")


def test_a_reset_link_with_a_forged_token_does_not_work(client: Client, river: User) -> None:
    client.post(reverse("password_reset"), {"email": "river@example.org"})
    forged = re.sub(r"/[^/]+/$", "/c0ffee-0123456789abcdef0123456789abcdef/", reset_link(mail.outbox[0]))

    page = client.get(forged, follow=True).content.decode()

    assert "This link no longer works" in page


# Changing a password


def change(client: Client, old: str, new1: str, new2: str | None = None) -> Any:
    data = {"old_password": old, "new_password1": new1, "new_password2": new1 if new2 is None else new2}
    return client.post(reverse("password_change"), data)


def test_a_signed_in_person_sees_a_change_password_link_in_the_header(client_for: Any, river: User) -> None:
    page = client_for(river).get(reverse("home")).content.decode()

    assert f'href="{reverse("password_change")}">Change password</a>' in page


def test_changing_a_password_keeps_this_session_signed_in_and_the_new_password_works(
    client_for: Any, river: User
) -> None:
    client = client_for(river)

    response = change(client, PASSWORD, NEW_PASSWORD)

    assert response["Location"] == reverse("password_change_done")
    assert "Password changed" in client.get(reverse("password_change_done")).content.decode()
    assert client.get(reverse("home")).status_code == 200
    assert sign_in(Client(), "river", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        (
            "not-my-password",
            NEW_PASSWORD,
            None,
            "The current password you entered is wrong. Enter the password you sign in with now.",
        ),
        (
            PASSWORD,
            NEW_PASSWORD,
            "quiet-lantern-over-the-sea",
            "The new passwords do not match. Enter the same new password in both boxes.",
        ),
        (PASSWORD, "Tulip-Road9", None, "This password is too short. It must contain at least 12 characters."),
        (PASSWORD, "password1234", None, "This password is too common."),
        (PASSWORD, "839201746251", None, "This password is entirely numeric."),
        ("", NEW_PASSWORD, None, "Enter your current password"),
        (PASSWORD, "", "", "Enter a new password"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    client_for: Any, river: User, old: str, new1: str, new2: str | None, message: str
) -> None:
    response = change(client_for(river), old, new1, new2)

    assert response.status_code == 200
    assert message in error_summary(response)
    assert response.content.decode().count(message) == 2, "once in the summary, once by its box"
    river.refresh_from_db()
    assert river.check_password(PASSWORD)


def test_a_too_short_password_is_reported_against_the_new_password_box(client_for: Any, river: User) -> None:
    response = change(client_for(river), PASSWORD, "Tulip-Road9")

    assert 'href="#id_new_password1"' in error_summary(response)


def test_signed_out_people_are_sent_to_sign_in_before_changing_a_password(client: Client) -> None:
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_changing_their_password_from_the_admin_use_the_same_page(client_for: Any) -> None:
    staff = UserFactory(username="admin-person", is_staff=True, is_superuser=True)
    client = client_for(staff)

    response = client.get("/admin/password_change/", follow=True)

    assert response.redirect_chain[-1][0] == reverse("password_change")
    assert "Change your password" in response.content.decode()
    assert change(client, PASSWORD, NEW_PASSWORD)["Location"] == reverse("password_change_done")
