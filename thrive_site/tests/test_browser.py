"""The Content-Security-Policy as Chromium applies it: the product's own scripts run
from their files, and script or style written into a page is refused (and reported,
which is how every browser test fails on a violation)."""

from typing import Any

import pytest
from playwright.sync_api import Browser

from accounts.models import User
from tests.browser import sign_in, watch_for_csp_violations
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_the_pages_scripts_run_from_files_and_injected_script_and_style_are_refused(
    browser: Browser, live_server: Any, commissioner_a: User
) -> None:
    context = browser.new_context()
    page = context.new_page()
    violations = watch_for_csp_violations(page)
    sign_in(page, live_server.url, commissioner_a.username, PASSWORD)
    page.goto(live_server.url + "/")
    page.wait_for_load_state("networkidle")

    # base.html's scripts, now static files, ran: the js-enabled class, GOV.UK
    # Frontend's components and htmx with its locked-down configuration.
    assert page.evaluate("document.body.classList.contains('js-enabled')")
    page.wait_for_selector("[data-govuk-skip-link-init]", state="attached")
    assert page.evaluate("htmx.config.allowEval") is False
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate("document.querySelectorAll('style').length") == 0
    assert violations == []

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            const styled = document.createElement("p");
            styled.setAttribute("style", "color: red");
            document.body.append(styled);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.injected") is None
    assert any("script" in violation for violation in violations), violations
    assert any("style" in violation for violation in violations), violations
    context.close()
