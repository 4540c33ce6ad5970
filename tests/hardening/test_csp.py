"""Found broken 5: a Content-Security-Policy on every page; no inline script anywhere."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.requests_dsar.factories import RequestFactory
from tests.subjects.factories import ContactFactory

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son[a-z]+=\"", re.IGNORECASE)


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize(
    "url",
    ["/", "/portal/", "/portal/request/", "/consent/subscribe/", "/personvern/", "/admin/login/", "/nope/"],
)
def test_public_pages_carry_a_policy_without_inline_script_or_third_parties(client, url):
    response = client.get(url)
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("http" in source for sources in policy.values() for source in sources)
    body = response.content.decode()
    assert not INLINE_SCRIPT.search(body), url
    assert not INLINE_HANDLER.search(body), url
    assert "<style" not in body, url


def test_admin_pages_carry_the_policy_and_no_inline_script(staff_client):
    contact = ContactFactory()
    dsar = RequestFactory()
    for url in (
        reverse("admin:index"),
        reverse("admin:subjects_contact_changelist"),
        reverse("admin:subjects_contact_change", args=[contact.pk]),
        reverse("admin:requests_dsar_datasubjectrequest_change", args=[dsar.pk]),
        reverse("admin:subjects_interaction_add"),
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert _policy(response)["script-src"] == ["'self'"]
        assert not INLINE_SCRIPT.search(response.content.decode()), url
