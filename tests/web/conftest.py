"""Fixtures for the console's browser tests: the real hub (console included) on loopback,
four parties, and Debian's Chromium driven by Playwright.

The browser is ``/usr/bin/chromium`` (``.ci/run`` installs Debian's ``chromium`` when it is
missing; Playwright's own browser downloads are not used), headless, with the flags that
keep it off the network. Each test gets fresh browser contexts (one per party: separate
session storage) whose console errors and page errors fail the test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.api._hub import Hub, Party, add_parties, bootstrap, data_dir

CHROMIUM = Path(os.environ.get("DECONFLICTION_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


@pytest.fixture(scope="session")
def console_hub() -> Iterator[Hub]:
    """A hub serving the console (``deconfliction.web:create_console_app``)."""
    with data_dir("console") as data:
        policy = data / "policy.toml"
        policy.write_text("[links]\ndegraded_after_min = 600\ndown_after_min = 601\n")
        h = Hub(
            data,
            env={"DECONFLICTION_POLICY": str(policy), "DECONFLICTION_RATE_LIMIT_PER_S": "0"},
            factory="deconfliction.web:create_console_app",
        )
        h.admin = bootstrap(data)
        h.start()
        try:
            yield h
        finally:
            h.stop()
            if "Traceback" in (log := h.log()):
                sys.__stderr__.write(f"\n--- console hub log (tail) ---\n{log}\n")


@pytest.fixture(scope="session")
def console_parties(console_hub: Hub) -> Iterator[dict[str, Party]]:
    ps = add_parties(console_hub, console_hub.admin)
    yield ps
    for p in ps.values():
        p.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Chromium, for this folder's tests only: Playwright's sync API keeps an event loop
    running in the main thread while it is open, and ``asyncio.run`` refuses to start in a
    thread with a running loop — so it must be closed before other folders' tests run (they
    may come after it, as under pytest-xdist)."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: install Debian's chromium (.ci/run does)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Consoles:
    """Browser contexts opened by a test; every console error or page error is kept."""

    def __init__(self, browser: Browser, hub: Hub) -> None:
        self.browser = browser
        self.hub = hub
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    def open(self, token: str | None = None, *, width: int = 1400, height: int = 900) -> Page:
        ctx = self.browser.new_context(viewport={"width": width, "height": height})
        ctx.set_default_timeout(15_000)
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.on(
            "console",
            lambda m: (
                self.errors.append(f"console: {m.text} ({m.location.get('url')})")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.goto(self.hub.url + "/")
        if token is not None:
            sign_in(page, token)
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


def sign_in(page: Page, token: str) -> None:
    page.get_by_label("Party token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#top").wait_for(state="visible")


@pytest.fixture
def consoles(browser: Browser, console_hub: Hub) -> Iterator[Consoles]:
    c = Consoles(browser, console_hub)
    try:
        yield c
    finally:
        c.close()
    assert not c.errors, "errors in the console:\n" + "\n".join(c.errors)
