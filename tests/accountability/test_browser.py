"""The dashboard and a record of processing in a real headless browser, without an error.

Same pattern as tests/requests_dsar/test_browser.py: Debian's chromium driven
by Playwright's Python package; skipped, saying why, when there is no Chromium.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from accountability import services
from core.audit import Actor
from tests.requests_dsar.factories import RequestFactory

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="needs Chromium for the browser test: apt-get install chromium (.ci/run does)",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (dev extra)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def test_the_dashboard_and_a_record_of_processing_open_without_error(browser, live_server, staff_user):
    RequestFactory.create_batch(2)
    services.breach_create(actor=Actor.system("t"), title="Stolen laptop", discovered_by="IT",
                           description="A laptop was stolen.")  # fmt: skip
    services.dashboard_refresh()

    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A failed load shows as a console error too; the response handler above judges those (favicon aside).
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text else None)  # fmt: skip
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)  # fmt: skip

    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(staff_user.username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.get_by_role("heading", name="What needs a decision today").is_visible()
    assert page.locator("#dashboard-breaches").inner_text().count("Stolen laptop") == 1
    assert page.locator("svg[role=img]").count() >= 5

    record = page.locator("#content-main > p a").nth(1)
    assert record.inner_text() == "Records of processing (Art. 30)"
    record.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="As controller (Art. 30(1))").is_visible()
    page.goto(f"{live_server.url}/admin/accountability/processingrecordversion/record/?lang=nb")
    assert page.get_by_role("heading", name="Som behandlingsansvarlig (art. 30 nr. 1)").is_visible()
    assert problems == []
    context.close()
