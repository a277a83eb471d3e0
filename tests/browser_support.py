"""What the real-browser tests share: Debian's Chromium, the flags it needs on
these machines, and the rule that a missing tool skips locally but fails in CI."""

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
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
VNU_JAR = (
    Path(__file__).parent / "browser" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
)


def require(available, reason):
    """Skip when a tool is missing on a laptop; fail when it is missing in CI."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)")
    pytest.skip(reason)


def require_chromium():
    require(
        Path(CHROMIUM).exists(),
        f"no Chromium at {CHROMIUM}: `apt-get install chromium` (or set CHROMIUM_PATH)",
    )


def require_vnu():
    require(
        shutil.which("java"),
        "no Java for the Nu Html Checker: `apt-get install default-jre-headless`",
    )
    require(
        VNU_JAR.exists(), f"no {VNU_JAR}: run `make browser-tools` (npm ci --prefix tests/browser)"
    )


@contextmanager
def launched_chromium():
    """Debian's Chromium under Playwright, closed afterwards."""
    require_chromium()
    # Playwright runs an event loop in this thread; the tests' own ORM calls
    # are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
