"""One whole access request in a real headless browser: submit, confirm, staff completes, download.

Playwright's Python package drives Debian's chromium (no browser can be
downloaded on the build machines); `.ci/run` installs it, so CI always runs
this. Without a Chromium the test is skipped and says why.
"""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from django.core import mail

from requests_dsar.models import DataSubjectRequest
from tests.subjects.factories import ContactFactory, InteractionFactory

from .conftest import last_link

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="needs Chromium for the browser test: apt-get install chromium (.ci/run does)",
    ),
    # serialized_rollback: the flush after this test must not re-create content types
    # under new ids, or the next test that restores the serialized database clashes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def browser(monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package (dev extra)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of
    # the test itself are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def test_a_whole_access_request_in_the_browser(browser, live_server, settings, staff_user):
    settings.SITE_URL = live_server.url
    contact = ContactFactory(email="kari.nordmann@firma.no", name="Kari Nordmann")
    InteractionFactory.create_batch(2, contact=contact, summary="Møte om integrasjon")

    person = browser.new_context(locale="nb-NO", accept_downloads=True)
    page = person.new_page()
    # hardening: the pages work under the Content-Security-Policy, with no violation.
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    # The portal, in bokmål, without JavaScript needed: start page, form, submit.
    page.goto(f"{live_server.url}/portal/")
    assert page.locator("html").get_attribute("lang") == "nb"
    page.get_by_role("link", name="Send en henvendelse").first.click()
    page.get_by_label("Innsyn i opplysningene mine").check()
    page.get_by_label("Din e-postadresse").fill("kari.nordmann@firma.no")
    page.get_by_label("Navnet ditt").fill("Kari Nordmann")
    page.get_by_role("button", name="Send henvendelsen").click()
    page.wait_for_url("**/portal/request/sent/")
    assert page.get_by_role("heading", name="Sjekk e-posten din").is_visible()

    # The link from the email: opening it asks for a click, which confirms.
    page.goto(f"{live_server.url}/portal/confirm/{last_link('confirm')}/")
    page.get_by_role("button", name="Bekreft henvendelsen").click()
    page.wait_for_url("**/portal/status/")
    assert page.locator("#request-status").inner_text() == "Bekreftet"
    request = DataSubjectRequest.objects.get()
    assert request.status == DataSubjectRequest.Status.VERIFIED

    # Staff complete it in the admin.
    staff = browser.new_context(locale="en-GB")
    admin = staff.new_page()
    admin.on("console", lambda message: console.append(message.text))
    admin.goto(f"{live_server.url}/admin/login/")
    admin.get_by_label("Username").fill(staff_user.username)
    admin.get_by_label("Password").fill("pw")
    admin.get_by_role("button", name="Log in").click()
    admin.goto(f"{live_server.url}/admin/requests_dsar/datasubjectrequest/")
    admin.get_by_role("link", name=request.reference).click()
    admin.get_by_role("link", name="Complete").click()
    admin.get_by_role("button", name=f"Complete: {request.reference}").click()
    admin.wait_for_url(f"**/admin/requests_dsar/datasubjectrequest/{request.pk}/change/")
    request.refresh_from_db()
    assert request.status == DataSubjectRequest.Status.COMPLETED

    # The person downloads the answer through the emailed link.
    assert mail.outbox[-1].to == ["kari.nordmann@firma.no"]
    url = f"{live_server.url}/portal/download/{last_link('download')}/"
    page.set_content(f'<a id="answer" href="{url}">download</a>')
    with page.expect_download() as download_info:
        page.click("#answer")
    download = download_info.value
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert b"Kari Nordmann" in everything
    assert request.events.filter(action="downloaded").count() == 1

    # The status page shows the answer.
    page.goto(f"{live_server.url}/portal/status/")
    assert page.locator("#request-status").inner_text() == "Fullført"
    person.close()
    staff.close()
    assert [line for line in console if "Content Security Policy" in line] == []
