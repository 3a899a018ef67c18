"""A real browser: Debian's Chromium driven by Playwright against pytest-django's live_server.

Playwright's sync API runs an event loop in this thread, so Django's guard against ORM calls
from async code is switched off for these tests only (DJANGO_ALLOW_ASYNC_UNSAFE), and put back
after them. Each page records console errors, uncaught exceptions and CSP violations (a
listener added with `add_init_script`, which is not an inline page script) so a test can
assert there were none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--headless=new",
]
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def browser(transactional_db: None, live_server: Any) -> Iterator[Any]:
    """Chromium, started after the test's database setup and stopped before its teardown.

    While Playwright's event loop runs, Django (through asgiref) hands out a separate set of
    database connections; starting the browser after the test case's setup and closing those
    connections before the browser stops keeps the serialized rollback on the connection that
    set it up, and leaves no connection open when the test database is dropped.
    """
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/ensure_chromium.sh installs it)")
    from django.db import connections
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
                connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Problems:
    """What went wrong in the browser while a test ran."""

    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def csp(self, page: Any) -> list[str]:
        return page.evaluate("window.__cspViolations || []")


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def page(browser: Any, problems: Problems, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(10_000)
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.on(
        "console",
        lambda m: (
            problems.console.append(f"{m.type}: {m.text} ({m.location})")
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.page_errors.append(str(e)))
    yield page
    context.close()


@pytest.fixture
def sign_in(page: Any, live_server: Any):
    """Skip the sign-in form: give the browser a session cookie of a user."""

    def sign_in(user: Any) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in
