"""The browser and checker tests may skip on a laptop without the tools, but in
CI (CI=true) a missing tool fails the run instead."""

import pytest

from tests.browser_support import require


def test_a_missing_tool_skips_locally(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium"):
        require(False, "no Chromium")


def test_a_missing_tool_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no Chromium.*CI=true"):
        require(False, "no Chromium")
    require(True, "never shown")  # a tool that is there changes nothing
