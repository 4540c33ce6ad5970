"""The portal: submission, email verification, links, no enumeration, rate limits, bad input."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.crypto import token_digest
from requests_dsar.models import DataSubjectRequest, RequestEmail, RequestEvent, RequestToken
from tests.conftest import needs_redis
from tests.subjects.factories import ContactFactory

from .conftest import last_link, links

pytestmark = pytest.mark.django_db

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
FORM = {
    "type": "access",
    "email": "kari.nordmann@firma.no",
    "name": "Kari Nordmann",
    "organisation": "Firma AS",
}


def submit(client, committed, **changes):
    with committed():
        return client.post("/portal/request/", {**FORM, **changes})


def confirm(client, committed, token):
    with committed():
        return client.post(f"/portal/confirm/{token}/")


class TestStartPage:
    def test_it_explains_the_rights_in_bokmal_by_default(self, client):
        response = client.get("/portal/")
        assert response.status_code == 200
        assert "Dine rettigheter" in response.content.decode()
        assert 'lang="nb"' in response.content.decode()

    def test_it_speaks_english_when_the_browser_asks(self, client):
        response = client.get("/portal/", HTTP_ACCEPT_LANGUAGE="en")
        assert "Your rights to your personal data" in response.content.decode()

    def test_the_privacy_notice_is_one_click_away(self, client):
        assert 'href="/personvern/"' in client.get("/portal/").content.decode()

    def test_the_page_loads_bootstrap_from_our_own_static_files(self, client):
        body = client.get("/portal/request/").content.decode()
        assert "/static/requests_dsar/bootstrap/bootstrap.min.css" in body
        assert "cdn" not in body.lower()


class TestSubmission:
    def test_a_submission_emails_a_confirmation_link_and_counts_only_after_it(self, client, committed):
        response = submit(client, committed)
        assert response.status_code == 302
        assert response["Location"] == "/portal/request/sent/"
        request = DataSubjectRequest.objects.get()
        assert request.status == DataSubjectRequest.Status.RECEIVED
        assert request.due_date is None
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["kari.nordmann@firma.no"]
        assert links("confirm")

    def test_the_address_is_normalised(self, client, committed):
        submit(client, committed, email="  Kari.Nordmann@FIRMA.no ")
        assert DataSubjectRequest.objects.get().email == "kari.nordmann@firma.no"

    def test_tokens_are_stored_only_as_a_digest(self, client, committed):
        submit(client, committed)
        token = last_link("confirm")
        row = RequestToken.objects.get()
        assert row.digest == token_digest(token)
        assert token not in row.digest
        # Nor in the copy of the email kept with the request.
        kept = RequestEmail.objects.get()
        assert token not in kept.body
        assert "[link removed]" in kept.body or "[lenke fjernet]" in kept.body

    def test_known_and_unknown_addresses_get_the_same_answer(self, client, committed):
        ContactFactory(email="kjent@firma.no")
        answers = []
        for email in ("kjent@firma.no", "ukjent@firma.no"):
            with CaptureQueriesContext(connection) as queries:
                response = submit(client, committed, email=email)
            followed = client.get(response["Location"])
            page = CSRF.sub(b"", followed.content)
            answers.append(
                (response.status_code, response["Location"], followed.status_code, page, len(queries))
            )
        known, unknown = answers
        assert known[:3] == unknown[:3]
        assert known[3] == unknown[3]
        # The same work is done for both: the same number of queries, and one email each.
        assert known[4] == unknown[4]
        assert len(mail.outbox) == 2

    def test_the_response_does_not_wait_for_the_mail_server(self, client, django_capture_on_commit_callbacks):
        # The email goes from a Celery task after commit: nothing is sent inside the request.
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post("/portal/request/", FORM)
        assert response.status_code == 302
        assert mail.outbox == []
        assert len(callbacks) == 1

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"email": "ikke-en-adresse"}, "email", "not a valid email address"),
            ({"email": ""}, "email", "Enter an email address"),
            ({"type": "hacking"}, "type", "Choose one of the kinds"),
            ({"details": "x" * 5001}, "details", "under 5000 characters"),
        ],
    )
    def test_bad_input_gets_a_clear_message_and_creates_nothing(
        self, client, committed, changes, field, message
    ):
        response = client.post("/portal/request/", {**FORM, **changes}, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400
        assert message in response.content.decode()
        assert DataSubjectRequest.objects.count() == 0
        assert mail.outbox == []

    def test_bad_input_is_explained_in_bokmal(self, client):
        response = client.post("/portal/request/", {**FORM, "email": "ikke-en-adresse"})
        assert response.status_code == 400
        assert "gyldig e-postadresse" in response.content.decode()

    def test_a_repeated_submission_creates_no_second_request_but_sends_a_new_link(self, client, committed):
        submit(client, committed)
        response = submit(client, committed)
        assert response.status_code == 302
        assert response["Location"] == "/portal/request/sent/"
        assert DataSubjectRequest.objects.count() == 1
        assert len(links("confirm")) == 2
        assert RequestEvent.objects.filter(action=RequestEvent.Action.REPEATED).count() == 1

    def test_a_repeat_of_an_open_request_points_to_the_one_we_have(self, client, committed):
        submit(client, committed)
        confirm(client, committed, last_link("confirm"))
        submit(client, committed)
        assert DataSubjectRequest.objects.count() == 1
        assert "already have this request" in mail.outbox[-1].body or "allerede" in mail.outbox[-1].body
        assert links("s")

    def test_a_different_kind_of_request_is_a_new_request(self, client, committed):
        submit(client, committed)
        submit(client, committed, type="erasure")
        assert DataSubjectRequest.objects.count() == 2

    def test_the_language_of_the_portal_is_the_language_of_the_emails(self, client, committed):
        submit(client, committed)
        assert DataSubjectRequest.objects.get().language == "nb"
        assert "Bekreft" in mail.outbox[0].subject


class TestVerification:
    def test_following_the_link_confirms_and_starts_the_month(self, client, committed):
        submit(client, committed)
        token = last_link("confirm")
        page = client.get(f"/portal/confirm/{token}/")
        assert page.status_code == 200
        # Opening the link (a mail scanner does) does not use it up.
        assert DataSubjectRequest.objects.get().status == DataSubjectRequest.Status.RECEIVED
        response = confirm(client, committed, token)
        assert response.status_code == 302
        assert response["Location"] == "/portal/status/"
        request = DataSubjectRequest.objects.get()
        assert request.status == DataSubjectRequest.Status.VERIFIED
        assert request.received_at is not None
        assert request.due_date is not None
        assert len(mail.outbox) == 2  # the confirmation with the status link
        status = client.get("/portal/status/")
        assert request.reference in status.content.decode()

    def test_it_refuses_a_reused_link(self, client, committed):
        submit(client, committed)
        token = last_link("confirm")
        confirm(client, committed, token)
        again = confirm(client, committed, token)
        assert again.status_code == 400
        assert "already been used" in again.content.decode() or "allerede brukt" in again.content.decode()

    def test_it_refuses_an_expired_link(self, client, committed):
        submit(client, committed)
        token = last_link("confirm")
        with time_machine.travel(timezone.now() + timedelta(hours=49)):
            response = confirm(client, committed, token)
        assert response.status_code == 400
        assert "expired" in response.content.decode() or "utløpt" in response.content.decode()
        assert DataSubjectRequest.objects.get().status == DataSubjectRequest.Status.RECEIVED

    def test_it_refuses_an_unknown_or_mangled_link(self, client, committed):
        submit(client, committed)
        token = last_link("confirm")
        for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 300, "abc"):
            response = confirm(client, committed, bad)
            assert response.status_code == 400
        assert DataSubjectRequest.objects.get().status == DataSubjectRequest.Status.RECEIVED

    def test_a_verify_link_cannot_open_the_status_page_nor_download(self, client, committed):
        submit(client, committed)
        token = last_link("confirm")
        assert client.get(f"/portal/s/{token}/").status_code == 400
        assert client.get(f"/portal/download/{token}/").status_code == 400

    def test_the_status_link_from_the_email_opens_the_status_page(self, client, committed):
        submit(client, committed)
        confirm(client, committed, last_link("confirm"))
        other = client.__class__()
        assert other.get("/portal/status/").status_code == 403
        response = other.get(f"/portal/s/{last_link('s')}/")
        assert response.status_code == 302
        page = other.get("/portal/status/")
        assert page.status_code == 200
        request = DataSubjectRequest.objects.get()
        assert request.reference in page.content.decode()

    def test_the_person_can_withdraw_from_the_status_page(self, client, committed):
        submit(client, committed)
        confirm(client, committed, last_link("confirm"))
        with committed():
            client.post("/portal/status/", {"action": "withdraw"})
        assert DataSubjectRequest.objects.get().status == DataSubjectRequest.Status.WITHDRAWN
        assert "withdrawn" in mail.outbox[-1].subject.lower() or "trukket" in mail.outbox[-1].subject


class TestRateLimits:
    def test_submissions_per_address_are_limited_with_a_clear_message(self, client, committed, settings):
        settings.DSAR_RATE_LIMITS = {"submit_email": (3, 3600)}
        for n in range(3):
            assert submit(client, committed, type=["access", "erasure", "objection"][n]).status_code == 302
        response = submit(client, committed, type="portability")
        assert response.status_code == 429
        assert (
            "too many times" in response.content.decode() or "for mange ganger" in response.content.decode()
        )
        assert DataSubjectRequest.objects.count() == 3

    def test_submissions_per_ip_address_are_limited(self, client, committed, settings):
        settings.DSAR_RATE_LIMITS = {"submit_ip": (2, 3600)}
        assert submit(client, committed, email="a@firma.no").status_code == 302
        assert submit(client, committed, email="b@firma.no").status_code == 302
        assert submit(client, committed, email="c@firma.no").status_code == 429
        # Another address (another IP) is not affected.
        other = client.post("/portal/request/", {**FORM, "email": "d@firma.no"}, REMOTE_ADDR="198.51.100.7")
        assert other.status_code == 302

    def test_the_limit_lifts_after_the_window(self, client, committed, settings):
        settings.DSAR_RATE_LIMITS = {"submit_email": (1, 60)}
        assert submit(client, committed).status_code == 302
        assert submit(client, committed, type="erasure").status_code == 429
        with time_machine.travel(timezone.now() + timedelta(seconds=61)):
            assert submit(client, committed, type="erasure").status_code == 302

    def test_verification_attempts_per_ip_are_limited(self, client, committed, settings):
        settings.DSAR_RATE_LIMITS = {"verify_ip": (3, 3600)}
        submit(client, committed)
        for _ in range(3):
            assert confirm(client, committed, "guess" * 8).status_code == 400
        response = confirm(client, committed, last_link("confirm"))
        assert response.status_code == 429
        assert DataSubjectRequest.objects.get().status == DataSubjectRequest.Status.RECEIVED


def test_unconfirmed_requests_are_purged_after_thirty_days(client, committed):
    from requests_dsar.services import requests_unconfirmed_purge

    submit(client, committed)
    assert requests_unconfirmed_purge() == 0
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert requests_unconfirmed_purge() == 1
    assert DataSubjectRequest.objects.count() == 0


@needs_redis
def test_rate_limits_are_shared_through_redis(settings):
    """Every web process counts in the same Redis, so the limit holds across processes."""
    import uuid

    from django.core.cache import caches

    from requests_dsar.ratelimit import rate_limit_hit

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
    }
    settings.DSAR_RATE_LIMITS = {"submit_ip": (2, 3600)}
    ip = f"test-{uuid.uuid4()}"
    assert [rate_limit_hit("submit_ip", ip) for _ in range(3)] == [False, False, True]
    # Another connection (another web process) sees the same count.
    caches["default"].close()
    assert rate_limit_hit("submit_ip", ip) is True


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(guess=st.text(min_size=0, max_size=120))
def test_no_string_but_the_issued_token_opens_a_link(db, guess):
    from requests_dsar.errors import LinkInvalid
    from requests_dsar.services import request_link_check, request_token_issue
    from tests.requests_dsar.factories import RequestFactory

    request = RequestFactory()
    token = request_token_issue(request=request, purpose=RequestToken.Purpose.STATUS)
    assert request_link_check(token=token, purpose="status") == request
    if guess != token:
        with pytest.raises(LinkInvalid):
            request_link_check(token=guess, purpose="status")
