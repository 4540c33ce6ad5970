"""The public pages stay cheap without losing a guarantee (issue 9, the portal under load).

No page without a form of its own creates a CSRF secret or sets a cookie; the forms
still refuse a POST without their token; the language switch is a link that goes
back only to this site; the fixed parts rendered once per process follow the
visitor's language; the request form shows a person's input and errors as before.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches
from django.test import Client

from requests_dsar.models import DataSubjectRequest

pytestmark = pytest.mark.django_db

PAGES_WITHOUT_A_FORM = ["/portal/", "/portal/request/sent/", "/personvern/", "/"]


@pytest.fixture(autouse=True)
def _fresh_fragments(_fresh_rate_limits, settings):
    # The fragments live in each process's memory, as in production (the package's
    # conftest gives each test a private default cache); a test starts without any.
    settings.CACHES = {
        **settings.CACHES,
        "template_fragments": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "fragments-under-test",
        },
    }
    caches["template_fragments"].clear()
    yield
    caches["template_fragments"].clear()


@pytest.mark.parametrize("path", PAGES_WITHOUT_A_FORM)
def test_a_first_visit_to_a_page_without_a_form_sets_no_cookie(path):
    response = Client().get(path)
    assert response.status_code == 200
    assert dict(response.cookies) == {}
    assert b"csrfmiddlewaretoken" not in response.content


def test_the_request_form_still_carries_its_token_and_refuses_a_post_without_one():
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/portal/request/")
    assert b'name="csrfmiddlewaretoken"' in page.content
    assert "csrftoken" in page.cookies
    refused = Client(enforce_csrf_checks=True).post(
        "/portal/request/", {"type": "access", "email": "kari.nordmann@firma.no"}
    )
    assert refused.status_code == 403
    assert not DataSubjectRequest.objects.exists()


def test_each_visitor_gets_their_own_token_though_the_form_is_rendered_once():
    token = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
    first = token.search(Client().get("/portal/request/").content).group(1)
    second = token.search(Client().get("/portal/request/").content).group(1)
    assert first != second


class TestLanguageLinks:
    def test_every_page_links_the_other_language(self):
        body = Client().get("/portal/").content.decode()
        assert 'href="/language/en/"' in body
        assert 'href="/language/nb/"' not in body  # the language shown is not a link

    def test_the_link_switches_the_language_and_goes_back(self):
        browser = Client()
        response = browser.get("/language/en/", HTTP_REFERER="http://testserver/portal/request/")
        assert response.status_code == 302
        assert response["Location"] == "http://testserver/portal/request/"
        assert "Make a request" in browser.get("/portal/request/").content.decode()
        browser.get("/language/nb/")
        assert "Send en henvendelse" in browser.get("/portal/request/").content.decode()

    def test_it_never_sends_anyone_to_another_site(self):
        response = Client().get("/language/en/", HTTP_REFERER="https://evil.example/phish")
        assert response["Location"] == "/"

    def test_an_unknown_language_is_not_found_and_sets_nothing(self):
        response = Client().get("/language/xx/")
        assert response.status_code == 404
        assert "django_language" not in response.cookies

    def test_it_changes_nothing_on_a_post(self):
        assert Client().post("/language/en/").status_code == 405


class TestFragmentsRenderedOnce:
    def test_the_same_process_serves_each_visitor_their_own_language(self):
        bokmal = Client(headers={"Accept-Language": "nb"})
        english = Client(headers={"Accept-Language": "en"})
        for _ in range(2):  # the second round comes from the fragments
            assert "Dine rettigheter" in bokmal.get("/portal/").content.decode()
            body = english.get("/portal/").content.decode()
            assert "Your rights to your personal data" in body
            assert 'lang="en"' in body
            assert "Dine rettigheter" not in body

    def test_a_link_may_preselect_a_kind_of_request_and_nothing_else(self):
        Client().get("/portal/request/")  # the empty form, rendered and kept
        chosen = Client().get("/portal/request/?type=erasure").content.decode()
        assert re.search(r'value="erasure"[^>]*checked', chosen)
        assert "checked" not in Client().get("/portal/request/").content.decode()
        assert "checked" not in Client().get("/portal/request/?type=<script>").content.decode()

    def test_a_refused_form_shows_the_persons_input_and_the_reason(self):
        Client().get("/portal/request/")  # the empty form, rendered and kept
        response = Client().post(
            "/portal/request/",
            {"type": "nonsense", "email": "kari.nordmann@firma.no", "details": "Feil <b>navn</b>"},
        )
        body = response.content.decode()
        assert response.status_code == 400
        assert "Velg en av henvendelsestypene i listen." in body
        assert 'value="kari.nordmann@firma.no"' in body
        assert "Feil &lt;b&gt;navn&lt;/b&gt;</textarea>" in body
        assert 'aria-invalid="true"' in body
        assert not DataSubjectRequest.objects.exists()
