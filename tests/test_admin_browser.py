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


STAFF_PASSWORD = "a-long-staff-password-9!"

# The contrast ratio (WCAG 2.x) of an element's text on its own background.
CONTRAST = """(element) => {
  const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map((c) => {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const style = getComputedStyle(element);
  const [a, b] = [luminance(rgb(style.color)), luminance(rgb(style.backgroundColor))];
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


@pytest.fixture
def staff_users(live_server, settings):
    import importlib

    from django.apps import apps
    from django.contrib.auth import get_user_model

    # live_server serves the plain static files, not the fingerprinted names:
    # without this the admin's pages would have no styles at all.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    call_command("load_content", verbosity=0)
    groups = importlib.import_module("therapyinfo.migrations.0003_editorial_groups")
    groups.create_groups(apps, None)  # the data migration's groups, gone after a flush
    importlib.import_module("therapyinfo.migrations.0006_revisions").grant(apps, None)
    for username, group in [("editor", groups.EDITOR), ("reviewer", groups.REVIEWER)]:
        user = get_user_model().objects.create_user(
            username, password=STAFF_PASSWORD, is_staff=True
        )
        user.groups.add(apps.get_model("auth", "Group").objects.get(name=group))


def signed_in(browser, live_server, username, path):
    page = browser.new_page(bypass_csp=True)  # axe is injected as a script
    page.goto(f"{live_server.url}/{settings.ADMIN_URL}login/?next=/{settings.ADMIN_URL}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    return page


@pytest.mark.django_db(transaction=True)
def test_the_pill_hides_at_zero_the_editor_submits_for_review_and_the_pill_is_readable(
    live_server, staff_users
):
    from axe_playwright_python.sync_playwright import Axe

    term = GlossaryTerm.objects.order_by("term").first()
    with launched_chromium() as browser:
        reviewer = signed_in(browser, live_server, "reviewer", "")
        assert reviewer.locator("#awaiting-count").count() == 0  # nothing waits: no "0 ..."

        editor = signed_in(
            browser, live_server, "editor", f"therapyinfo/glossaryterm/{term.pk}/change/"
        )
        save = editor.locator("input[name=_save]")
        assert save.get_attribute("value") == "Submit for review"
        editor.fill("#id_definition", "An editor's clearer definition.")
        save.click()
        message = editor.locator(".messagelist li")
        message.first.wait_for()
        assert "Saved for review" in message.first.inner_text()
        assert message.first.get_attribute("class") == "success"

        reviewer.reload()
        pill = reviewer.locator("#awaiting-count")
        assert pill.inner_text() == "1 awaiting review"
        assert pill.evaluate(CONTRAST) >= 4.5
        results = Axe().run(
            reviewer,
            context="#header",
            options={"runOnly": {"type": "rule", "values": ["color-contrast"]}},
        )
        assert results.response["violations"] == []
        checked = [node["target"] for rule in results.response["passes"] for node in rule["nodes"]]
        assert ["#awaiting-count"] in checked  # axe really measured the pill
        # A reviewer's own save of a live record publishes it: the button says "Save".
        reviewer.goto(
            f"{live_server.url}/{settings.ADMIN_URL}therapyinfo/glossaryterm/{term.pk}/change/"
        )
        assert reviewer.locator("input[name=_save]").get_attribute("value") == "Save"
