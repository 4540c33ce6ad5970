"""Found broken 11: error pages in bokmål and English, in the site's look (DEBUG off)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "status", "nb", "en"),
    [
        ("/finnes-ikke/", 404, "Vi fant ikke denne siden", "We could not find that page"),
        (
            "/personvern/versjon/%00/", 400,
            "Vi kunne ikke lese denne forespørselen", "We could not read that request",
        ),
    ],
)  # fmt: skip
def test_errors_answer_in_the_persons_language_and_the_sites_look(client, url, status, nb, en):
    norwegian = client.get(url, HTTP_ACCEPT_LANGUAGE="nb")
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert (norwegian.status_code, english.status_code) == (status, status)
    assert nb in norwegian.content.decode() and 'lang="nb"' in norwegian.content.decode()
    assert en in english.content.decode() and 'lang="en"' in english.content.decode()
    assert "core/site.css" in english.content.decode()
    assert "Not Found" not in english.content.decode() and "Bad Request (400)" not in english.content.decode()


def test_a_forged_csrf_post_gets_the_sites_403_page(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="nb")
    response = strict.post("/consent/subscribe/", {"email": "kari@firma.no"})
    assert response.status_code == 403
    assert "Skjemaet er utløpt" in response.content.decode()


def test_a_staff_page_without_permission_gets_the_sites_403_page(client, stranger):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/")
    request.user = stranger
    with translation.override("en"):
        response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    assert "You do not have access to this page" in response.content.decode()


@pytest.mark.parametrize(
    ("language", "text"), [("nb", "Noe gikk galt hos oss"), ("en", "Something went wrong on our side")]
)
def test_the_500_page_is_self_contained_and_translated(language, text):
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 500 and text in body and f'lang="{language}"' in body


def test_the_429_page_exists_in_both_languages():
    from django.template.loader import render_to_string

    with translation.override("nb"):
        assert "For mange forsøk" in render_to_string("429.html")
    with translation.override("en"):
        assert "Too many attempts" in render_to_string("429.html")
