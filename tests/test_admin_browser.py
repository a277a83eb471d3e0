"""The admin works in a real browser under the site's Content-Security-Policy.

Uses Debian's Chromium through Playwright. Without Chromium the test skips
locally; in CI (`CI=true`) a missing browser fails the run instead.
"""

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.browser_support import launched_chromium
from therapyinfo.models import GlossaryTerm

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
    with launched_chromium() as browser:
        page = browser.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        yield page


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
    page.fill("#id_change_note", "A clearer definition.")  # a superuser's save publishes
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
