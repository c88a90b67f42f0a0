"""Playwright fixtures driving Debian's Chromium, and an axe-core check.

Chromium comes from apt (/usr/bin/chromium), never from `playwright install`."""

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# inside one unless told it is safe, which it is here because tests are single-threaded.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# How Chromium words a Content-Security-Policy violation in the console.
CSP_VIOLATION = re.compile(r"Content.Security.Policy|Refused to", re.IGNORECASE)


def watch_for_csp_violations(page: Page) -> list[str]:
    """A list that fills with every Content-Security-Policy violation the page reports
    (Chromium logs each refused script, style, image or connection to the console)."""
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if CSP_VIOLATION.search(message.text):
            violations.append(f"{message.type}: {message.text} ({page.url})")

    def on_page_error(error: Error) -> None:
        if CSP_VIOLATION.search(str(error)):
            violations.append(f"page error: {error} ({page.url})")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return violations


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; the test fails if anything on it broke the Content-Security-Policy."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations = watch_for_csp_violations(page)
    yield page
    context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations), pytrace=False)


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def serious_accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """Runs axe-core on the page and returns violations of serious or critical impact."""
    # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
    # does not govern; a <script> tag added to the page would be refused.
    page.evaluate(AXE_SCRIPT.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"][:5]],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
