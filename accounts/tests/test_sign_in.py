"""Signing in: the lockout after repeated failures is counted per username and client
address, and the client address is read safely behind the compose stack's proxy."""

import datetime
import json
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from tests.factories import PASSWORD, UserFactory
from thrive_site.tests.test_platform import manage

pytestmark = pytest.mark.django_db

# What the web container sees as the connecting address of the host's reverse proxy
# (the gateway of the compose network).
PROXY = "172.18.0.1"
# A second proxy in front of the first (a load balancer or CDN).
EDGE = "192.0.2.10"
RIVER = "198.51.100.7"
ATTACKER = "203.0.113.66"


def attempt(client: Client, password: str, *, remote_addr: str, forwarded_for: str | None = None) -> Any:
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client.post(reverse("login"), {"username": "river", "password": password}, **headers)


def behind_proxies(settings: Settings, count: int) -> None:
    """What TRUSTED_PROXY_COUNT=count makes of the settings (checked against the
    settings module itself below)."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = count - 1


def through_proxies(count: int, client_address: str, *, written_by_client: str = "") -> str:
    """The X-Forwarded-For header the app receives when a client at client_address
    comes through `count` proxies, each adding the address it was connected from."""
    entries = [written_by_client] if written_by_client else []
    entries.append(client_address)
    entries.extend([EDGE][: count - 1])
    return ", ".join(entries)


@pytest.fixture
def river(settings: Settings) -> Any:
    settings.AXES_FAILURE_LIMIT = 5
    return UserFactory(username="river")


@pytest.mark.parametrize("proxies", [1, 2])
def test_behind_the_proxy_failures_from_one_address_do_not_lock_out_the_same_username_elsewhere(
    settings: Settings, river: Any, proxies: int
) -> None:
    behind_proxies(settings, proxies)
    attacker, person = Client(), Client()

    for _ in range(5):
        attempt(attacker, "not-the-password", remote_addr=PROXY, forwarded_for=through_proxies(proxies, ATTACKER))
    locked = attempt(attacker, PASSWORD, remote_addr=PROXY, forwarded_for=through_proxies(proxies, ATTACKER))
    signed_in = attempt(person, PASSWORD, remote_addr=PROXY, forwarded_for=through_proxies(proxies, RIVER))

    assert locked.status_code == 429
    assert signed_in.status_code == 302
    assert person.session["_auth_user_id"] == str(river.pk)
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ATTACKER]


@pytest.mark.parametrize("proxies", [1, 2])
def test_an_address_a_client_writes_into_x_forwarded_for_is_not_believed(
    settings: Settings, river: Any, proxies: int
) -> None:
    behind_proxies(settings, proxies)
    attacker, person = Client(), Client()

    # The attacker claims to be river's address, and a new one each time, to dodge the count.
    for spoofed in [RIVER, "198.51.100.20", "198.51.100.21", "198.51.100.22", "198.51.100.23"]:
        header = through_proxies(proxies, ATTACKER, written_by_client=spoofed)
        attempt(attacker, "not-the-password", remote_addr=PROXY, forwarded_for=header)
    header = through_proxies(proxies, ATTACKER, written_by_client="198.51.100.24")
    locked = attempt(attacker, PASSWORD, remote_addr=PROXY, forwarded_for=header)
    signed_in = attempt(person, PASSWORD, remote_addr=PROXY, forwarded_for=through_proxies(proxies, RIVER))

    assert locked.status_code == 429
    assert signed_in.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(river: Any) -> None:
    client = Client()

    for n in range(5):
        attempt(client, "not-the-password", remote_addr=ATTACKER, forwarded_for=f"198.51.100.{30 + n}")
    claims_to_be_river = attempt(client, PASSWORD, remote_addr=ATTACKER, forwarded_for=RIVER)

    assert claims_to_be_river.status_code == 429
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [ATTACKER]


def read_settings(env: dict[str, str]) -> Any:
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.AXES_IPWARE_META_PRECEDENCE_ORDER, settings.AXES_IPWARE_PROXY_COUNT]))"
    )
    result = manage("shell", "-c", script, env={"DJANGO_SETTINGS_MODULE": "thrive_site.settings.local", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_trusted_proxy_count_sets_where_the_client_address_is_read() -> None:
    assert read_settings({}) == [["REMOTE_ADDR"], None]
    assert read_settings({"TRUSTED_PROXY_COUNT": "0"}) == [["REMOTE_ADDR"], None]
    assert read_settings({"TRUSTED_PROXY_COUNT": "1"}) == [["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"], 0]
    assert read_settings({"TRUSTED_PROXY_COUNT": "2"}) == [["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"], 1]


@pytest.mark.parametrize(
    ("value", "error"), [("-1", "TRUSTED_PROXY_COUNT must be 0 or more"), ("one", "invalid literal for int()")]
)
def test_a_trusted_proxy_count_that_is_not_a_count_stops_the_settings_loading(value: str, error: str) -> None:
    result = manage("check", env={"DJANGO_SETTINGS_MODULE": "thrive_site.settings.local", "TRUSTED_PROXY_COUNT": value})

    assert result.returncode != 0
    assert error in result.stderr


def test_the_lockout_page_says_how_long_to_wait_in_plain_english(client: Client, river: Any) -> None:
    for _ in range(5):
        response = attempt(client, "not-the-password", remote_addr=ATTACKER)

    page = response.content.decode()
    assert response.status_code == 429
    assert "Wait 15\xa0minutes before you try again" in page
    assert "PT15M" not in page
    assert reverse("password_reset") in page


def test_the_lockout_page_follows_the_cool_off_setting(client: Client, river: Any, settings: Settings) -> None:
    settings.AXES_COOLOFF_TIME = datetime.timedelta(hours=1, minutes=30)
    for _ in range(5):
        response = attempt(client, "not-the-password", remote_addr=ATTACKER)

    assert "Wait 1\xa0hour, 30\xa0minutes before you try again" in response.content.decode()
