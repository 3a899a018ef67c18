"""The real browser of the web pages' tests (Playwright driving Debian's Chromium)."""

from ...web.browser.conftest import Problems, browser, page, problems, sign_in  # noqa: F401
