"""The admin works in a real browser under the site's Content-Security-Policy.

Uses Debian's Chromium through Playwright. Without Chromium the test skips
locally; in CI (`CI=true`) a missing browser fails the run instead.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.core.management import call_command

from therapyinfo.models import GlossaryTerm

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Records every CSP violation the page reports, before any page script runs
# (init scripts come through DevTools, so the policy itself does not block them).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def browser_page():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser tests")
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.add_init_script(RECORD_VIOLATIONS)
            yield page
        finally:
            browser.close()


def test_admin_login_and_save_without_csp_violations(live_server, browser_page, django_user_model):
    call_command("load_content", verbosity=0)  # live_server tests start from an empty database
    django_user_model.objects.create_superuser("browser", "b@example.org", "browser-pw-9x!long")
    term = GlossaryTerm.objects.order_by("term").first()
    page = browser_page
    console = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))

    admin = f"{live_server.url}/{settings.ADMIN_URL}"
    page.goto(admin)
    page.fill("#id_username", "browser")
    page.fill("#id_password", "browser-pw-9x!long")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Log out" in page.content() or "logout" in page.content()

    # A change form with the admin's own scripts (prepopulated slug, actions).
    page.goto(f"{admin}therapyinfo/glossaryterm/{term.pk}/change/")
    page.fill("#id_definition", "Changed in the browser test.")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    # A page with inlines and the filter widget, saved unchanged.
    page.goto(f"{admin}therapyinfo/therapy/")
    page.click("text=Ketamine")
    page.wait_for_selector("#therapy_form")
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist .success")

    violations = page.evaluate("window.__cspViolations")
    assert isinstance(violations, list), "the violation recorder did not run"
    csp_console = [line for line in console if "Content Security Policy" in line]
    assert violations == [] and csp_console == [], (violations, csp_console)
    term.refresh_from_db()
    assert term.definition == "Changed in the browser test."
