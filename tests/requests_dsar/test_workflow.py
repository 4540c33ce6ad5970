"""Every request type from submission through verification to completion, through the portal and the admin."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from consent.selectors import email_is_suppressed
from core.registry import Erasure, registry
from requests_dsar import deadlines
from requests_dsar.models import (
    DataSubjectRequest,
    ProcessingRestriction,
    RecipientNotice,
    RequestEmail,
    RequestEvent,
)
from subjects.models import Contact, Interaction
from tests.subjects.factories import ContactFactory, InteractionFactory

from .conftest import last_link
from .factories import RequestFactory

pytestmark = pytest.mark.django_db

KARI = "kari.nordmann@firma.no"


@pytest.fixture
def kari(db):
    contact = ContactFactory(email=KARI, name="Kari Nordmann", job_title="Innkjøpssjef", language="en")
    InteractionFactory.create_batch(3, contact=contact, summary="Samtale med Kari")
    return contact


def submit_and_confirm(client, committed, type: str, **extra) -> DataSubjectRequest:
    with committed():
        response = client.post(
            "/portal/request/",
            {"type": type, "email": KARI, "name": "Kari Nordmann", **extra},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 302
    with committed():
        response = client.post(f"/portal/confirm/{last_link('confirm')}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get(type=type)
    assert request.status == DataSubjectRequest.Status.VERIFIED
    return request


def act(staff_client, committed, request, action, **data):
    with committed():
        response = staff_client.post(
            f"/admin/requests_dsar/datasubjectrequest/{request.pk}/act/{action}/",
            data,
            HTTP_ACCEPT_LANGUAGE="en",
        )
    return response


def remaining_about(email: str) -> dict[str, int]:
    """Rows still held about the address in every registered model, except those kept on purpose."""
    left = {}
    for declaration in registry.personal():
        if declaration.findable and declaration.erasure is not Erasure.KEEP:
            count = declaration.rows_for([email]).count()
            if count:
                left[declaration.label] = count
    return left


class TestEveryType:
    def test_access_ends_in_a_download_of_everything_held(self, client, staff_client, committed, kari):
        request = submit_and_confirm(client, committed, "access")
        assert list(request.contacts.all()) == [kari]
        response = act(staff_client, committed, request, "complete", answer="")
        assert response.status_code == 302, response.content.decode()[:2000]
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.COMPLETED
        assert request.answer_file
        completed = mail.outbox[-1]
        assert completed.to == [KARI]
        token = last_link("download")
        download = client.get(f"/portal/download/{token}/")
        assert download.status_code == 200
        assert download["Content-Type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
        names = archive.namelist()
        assert any(n.endswith(".html") for n in names)
        assert any(n.endswith(".json") for n in names)
        everything = b"".join(archive.read(n) for n in names)
        assert b"Kari Nordmann" in everything
        # Each download is recorded; the link works again within its time.
        assert client.get(f"/portal/download/{token}/").status_code == 200
        assert request.events.filter(action=RequestEvent.Action.DOWNLOADED).count() == 2

    def test_a_download_link_expires_and_a_fresh_one_can_be_asked_for(
        self, client, staff_client, committed, kari
    ):
        request = submit_and_confirm(client, committed, "access")
        act(staff_client, committed, request, "complete")
        token = last_link("download")
        later = timezone.now() + timedelta(hours=73)
        with time_machine.travel(later):
            expired = client.get(f"/portal/download/{token}/")
            assert expired.status_code == 400
            # The portal session lasted a visit (DSAR_PORTAL_SESSION_MINUTES); the emailed
            # status link opens it again.
            assert client.get("/portal/status/").status_code == 403
            client.get(f"/portal/s/{last_link('s')}/")
            with committed():
                client.post("/portal/status/", {"action": "download_link"})
            fresh = last_link("download")
            assert fresh != token
            assert client.get(f"/portal/download/{fresh}/").status_code == 200

    def test_an_unknown_address_still_gets_a_real_answer(self, client, staff_client, committed):
        request = submit_and_confirm(client, committed, "access")
        assert request.contacts.count() == 0
        act(staff_client, committed, request, "complete")
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.COMPLETED
        download = client.get(f"/portal/download/{last_link('download')}/")
        assert download.status_code == 200

    def test_portability_gives_json_and_csv(self, client, staff_client, committed, kari):
        request = submit_and_confirm(client, committed, "portability")
        act(staff_client, committed, request, "complete")
        download = client.get(f"/portal/download/{last_link('download')}/")
        archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
        assert any(n.endswith(".json") for n in archive.namelist())
        assert any(n.endswith(".csv") for n in archive.namelist())

    def test_rectification_applies_the_reviewed_correction_and_lists_recipients(
        self, client, staff_client, committed, kari
    ):
        request = submit_and_confirm(
            client, committed, "rectification", details="My title is wrong: I am CFO, not Innkjøpssjef."
        )
        form = staff_client.get(f"/admin/requests_dsar/datasubjectrequest/{request.pk}/act/complete/")
        assert "Innkjøpssjef" in form.content.decode()
        response = act(
            staff_client, committed, request, "complete",
            **{"subjects.contact|job_title": "CFO", "subjects.contact|name": "Kari Nordmann"},
            answer="",
        )  # fmt: skip
        assert response.status_code == 302, response.content.decode()[:3000]
        kari.refresh_from_db()
        assert kari.job_title == "CFO"
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.COMPLETED
        # Art. 19: the recipients of the contact record are to be told.
        assert set(request.recipient_notices.values_list("recipient", flat=True)) >= {"crm_provider"}
        assert "corrected" in mail.outbox[-1].body

    def test_rectification_without_any_change_is_refused_with_a_message(
        self, client, staff_client, committed, kari
    ):
        request = submit_and_confirm(client, committed, "rectification", details="?")
        response = act(staff_client, committed, request, "complete", answer="")
        assert response.status_code == 200
        assert "at least one corrected value" in response.content.decode()
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.VERIFIED

    def test_erasure_leaves_nothing_names_what_is_kept_and_redacts_the_request(
        self, client, staff_client, committed, kari
    ):
        request = submit_and_confirm(client, committed, "erasure")
        response = act(staff_client, committed, request, "complete", answer="")
        assert response.status_code == 302, response.content.decode()[:3000]
        assert not Contact.objects.filter(email=KARI).exists()
        assert Interaction.objects.filter(summary="Samtale med Kari").count() == 0
        assert remaining_about(KARI) == {}
        assert email_is_suppressed(email=KARI)
        # The person was told what was erased and what was kept, and why.
        answer = mail.outbox[-1]
        assert answer.to == [KARI]
        assert "We have erased" in answer.body
        assert "kept" in answer.body
        # The fact that we answered stays, without the person.
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.COMPLETED
        assert request.redacted_at is not None
        assert (request.email, request.name, request.answer) == ("", "", "")
        assert not RequestEmail.objects.filter(request=request).exclude(body="").exists()
        assert not RequestEvent.objects.filter(request=request).exclude(note="", message="").exists()
        assert request.recipient_notices.exists()

    def test_restriction_is_recorded_and_guards_the_data_from_retention(
        self, client, staff_client, committed, kari
    ):
        request = submit_and_confirm(client, committed, "restriction", details="While you check my title")
        act(staff_client, committed, request, "complete")
        restriction = ProcessingRestriction.objects.get()
        assert restriction.kind == ProcessingRestriction.Kind.RESTRICTION
        assert restriction.lifted_at is None
        assert KARI in set(registry.guards()["restriction"]())
        from requests_dsar.selectors import processing_restricted

        assert processing_restricted(email=KARI)

    def test_objection_stops_marketing_for_good(self, client, staff_client, committed, kari):
        request = submit_and_confirm(client, committed, "objection", details="No marketing, please")
        act(staff_client, committed, request, "complete")
        assert ProcessingRestriction.objects.get().kind == ProcessingRestriction.Kind.OBJECTION
        assert email_is_suppressed(email=KARI)
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.COMPLETED

    def test_withdrawal_of_consent_completes(self, client, staff_client, committed, kari):
        request = submit_and_confirm(client, committed, "withdrawal")
        act(staff_client, committed, request, "complete")
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.COMPLETED
        assert "withdrawn your consent" in mail.outbox[-1].body

    def test_another_question_needs_a_written_answer(self, client, staff_client, committed, kari):
        request = submit_and_confirm(client, committed, "other", details="Who gave you my number?")
        empty = act(staff_client, committed, request, "complete", answer="")
        assert empty.status_code == 200
        assert "Write the answer" in empty.content.decode()
        act(staff_client, committed, request, "complete", answer="We got it from Proff Forvalt.")
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.COMPLETED
        assert "Proff Forvalt" in mail.outbox[-1].body
        status = client.get("/portal/status/")
        assert "Proff Forvalt" in status.content.decode()


class TestStaffActions:
    def test_open_requests_are_an_open_retention_guard(self):
        request = RequestFactory(email=KARI)
        assert KARI in set(registry.guards()["open_request"]())
        request.status = DataSubjectRequest.Status.COMPLETED
        request.save()
        assert KARI not in set(registry.guards()["open_request"]())

    def test_an_extension_is_emailed_with_its_reason_and_new_deadline(self, staff_client, committed):
        request = RequestFactory(email=KARI)
        response = act(staff_client, committed, request, "extend", months="2", reason="Many records to check")
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.extension_months == 2
        assert request.due_date == deadlines.extended_deadline(request.received_at, months=2)
        assert mail.outbox[-1].to == [KARI]
        assert "Many records to check" in mail.outbox[-1].body
        assert "Art. 12(3)" in mail.outbox[-1].body

    def test_extensions_are_capped_at_two_further_months(self, staff_client, committed):
        request = RequestFactory(email=KARI)
        act(staff_client, committed, request, "extend", months="1", reason="Complex")
        act(staff_client, committed, request, "extend", months="1", reason="Still complex")
        request.refresh_from_db()
        assert request.extension_months == 2
        third = act(staff_client, committed, request, "extend", months="1", reason="More")
        assert third.status_code == 200
        assert "at most two further months" in third.content.decode()
        request.refresh_from_db()
        assert request.due_date == deadlines.latest_extended_deadline(request.received_at)

    def test_an_extension_after_the_first_deadline_is_refused(self, staff_client, committed, staff_user):
        request = RequestFactory(email=KARI)
        with time_machine.travel(timezone.now() + timedelta(days=32)):
            staff_client.force_login(staff_user)
            response = act(staff_client, committed, request, "extend", months="1", reason="Late")
        assert response.status_code == 200
        assert "first deadline has passed" in response.content.decode()
        assert mail.outbox == []

    def test_a_refusal_carries_its_reason_and_the_right_to_complain(self, staff_client, committed, client):
        request = RequestFactory(email=KARI)
        response = act(
            staff_client, committed, request, "refuse", reason="Manifestly unfounded: the tenth copy"
        )
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.REFUSED
        body = mail.outbox[-1].body
        assert "Manifestly unfounded" in body
        assert "Datatilsynet" in body
        assert RequestEmail.objects.filter(request=request, kind="refused").exists()

    def test_a_refusal_needs_a_reason(self, staff_client, committed):
        request = RequestFactory(email=KARI)
        response = act(staff_client, committed, request, "refuse", reason="  ")
        assert response.status_code == 200
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.VERIFIED

    def test_manual_verification_starts_the_month(self, staff_client, committed, client):
        with committed():
            client.post("/portal/request/", {"type": "access", "email": KARI})
        request = DataSubjectRequest.objects.get()
        response = act(staff_client, committed, request, "verify", note="Called her at the number on file")
        assert response.status_code == 302
        request.refresh_from_db()
        assert request.status == DataSubjectRequest.Status.VERIFIED
        assert request.due_date == deadlines.first_deadline(request.received_at)
        event = request.events.get(action=RequestEvent.Action.VERIFIED_MANUALLY)
        assert event.note == "Called her at the number on file"

    def test_assign_and_message_are_recorded_in_the_history(self, staff_client, committed, staff_user):
        request = RequestFactory(email=KARI)
        act(staff_client, committed, request, "assign", assignee=str(staff_user.pk))
        act(staff_client, committed, request, "message", message="Which company?", wait_for_reply="on")
        request.refresh_from_db()
        assert request.assignee == staff_user
        assert request.status == DataSubjectRequest.Status.WAITING
        actions = list(request.events.values_list("action", "actor_id"))
        assert (RequestEvent.Action.ASSIGNED, staff_user.pk) in actions
        assert (RequestEvent.Action.WAITING, staff_user.pk) in actions
        assert "Which company?" in mail.outbox[-1].body

    def test_recipients_are_marked_told_with_when_and_by_whom(self, staff_client, staff_user):
        request = RequestFactory(email=KARI, status=DataSubjectRequest.Status.COMPLETED)
        notice = RecipientNotice.objects.create(request=request, recipient="crm_provider")
        response = staff_client.post(
            f"/admin/requests_dsar/datasubjectrequest/{request.pk}/recipient/{notice.pk}/told/"
        )
        assert response.status_code == 302
        notice.refresh_from_db()
        assert notice.told_at is not None
        assert notice.told_by == staff_user

    def test_the_queue_is_sorted_by_deadline_and_marks_the_overdue(self, staff_client):
        late = RequestFactory(email="sen@firma.no")
        RequestFactory(email="tidlig@firma.no")
        DataSubjectRequest.objects.filter(pk=late.pk).update(
            first_due_date=deadlines.today() - timedelta(days=3),
            due_date=deadlines.today() - timedelta(days=3),
        )
        page = staff_client.get("/admin/requests_dsar/datasubjectrequest/", HTTP_ACCEPT_LANGUAGE="en")
        body = page.content.decode()
        assert page.status_code == 200
        early = DataSubjectRequest.objects.get(email="tidlig@firma.no")
        assert body.index(late.reference) < body.index(early.reference)
        assert "overdue" in body
        overdue_only = staff_client.get(
            "/admin/requests_dsar/datasubjectrequest/?deadline=overdue", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert late.reference in overdue_only.content.decode()
        assert early.reference not in overdue_only.content.decode()

    def test_the_contact_page_shows_the_persons_requests(self, staff_client, kari):
        request = RequestFactory(email=KARI)
        page = staff_client.get(f"/admin/subjects/contact/{kari.pk}/change/")
        assert request.reference in page.content.decode()


class TestPermissions:
    @pytest.fixture
    def request_(self):
        return RequestFactory(email=KARI)

    def test_the_privacy_officer_may_act(self, staff_client, request_):
        url = f"/admin/requests_dsar/datasubjectrequest/{request_.pk}/act/refuse/"
        assert staff_client.get(url).status_code == 200

    def test_a_colleague_without_permission_may_not(self, client, colleague, request_):
        client.force_login(colleague)
        url = f"/admin/requests_dsar/datasubjectrequest/{request_.pk}/act/refuse/"
        assert client.get(url).status_code == 403
        assert client.post(url, {"reason": "no"}).status_code == 403
        request_.refresh_from_db()
        assert request_.status == DataSubjectRequest.Status.VERIFIED

    def test_a_stranger_is_sent_to_the_login(self, client, stranger, request_):
        client.force_login(stranger)
        response = client.post(
            f"/admin/requests_dsar/datasubjectrequest/{request_.pk}/act/refuse/", {"reason": "x"}
        )
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
        request_.refresh_from_db()
        assert request_.status == DataSubjectRequest.Status.VERIFIED


class TestReminders:
    def test_the_assignee_is_reminded_once_before_the_deadline(self, staff_user):
        from requests_dsar.services import requests_remind

        request = RequestFactory(email=KARI, assignee=staff_user)
        on = request.due_date - timedelta(days=3)
        assert requests_remind(on=on) == {"due_soon": 1, "overdue": 0}
        assert requests_remind(on=on) == {"due_soon": 0, "overdue": 0}
        assert mail.outbox[0].to == [staff_user.email]
        assert request.reference in mail.outbox[0].subject

    def test_overdue_requests_are_reminded_daily_to_the_privacy_officer_when_unassigned(self, settings):
        from requests_dsar.services import requests_remind

        request = RequestFactory(email=KARI)
        day = request.due_date + timedelta(days=1)
        assert requests_remind(on=day)["overdue"] == 1
        assert requests_remind(on=day)["overdue"] == 0
        assert requests_remind(on=day + timedelta(days=1))["overdue"] == 1
        assert mail.outbox[-1].to == [settings.PRIVACY_OFFICER_EMAIL]

    def test_the_reminder_task_is_declared_for_beat(self, settings):
        tasks = {spec["task"] for spec in settings.PERIODIC_TASKS.values()}
        assert "requests_dsar.tasks.requests_send_reminders" in tasks


def test_every_email_the_person_receives_is_kept_with_the_request(client, staff_client, committed, kari):
    request = submit_and_confirm(client, committed, "other")
    act(staff_client, committed, request, "message", message="Can you say more?")
    act(staff_client, committed, request, "complete", answer="Here is our answer.")
    sent_to_kari = [m for m in mail.outbox if m.to == [KARI]]
    kept = list(RequestEmail.objects.filter(request=request).values_list("kind", "subject"))
    assert [k for k, _ in kept] == ["verify", "received", "message", "completed"]
    assert [s for _, s in kept] == [m.subject for m in sent_to_kari]


def test_the_access_answer_is_json_readable(client, staff_client, committed, kari):
    request = submit_and_confirm(client, committed, "access")
    act(staff_client, committed, request, "complete")
    download = client.get(f"/portal/download/{last_link('download')}/")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    name = next(n for n in archive.namelist() if n.endswith(".json"))
    assert json.loads(archive.read(name))


def test_staff_lift_a_restriction_with_a_reason(staff_client, colleague):
    from django.test import Client

    restriction = ProcessingRestriction.objects.create(email=KARI, kind="restriction", scope="title")
    url = f"/admin/requests_dsar/processingrestriction/{restriction.pk}/lift/"
    other = Client()
    other.force_login(colleague)
    assert other.post(url, {"reason": "x"}).status_code == 403
    response = staff_client.post(url, {"reason": "The title was checked and is right"})
    assert response.status_code == 302
    restriction.refresh_from_db()
    assert restriction.lifted_at is not None
    assert KARI not in set(registry.guards()["restriction"]())
