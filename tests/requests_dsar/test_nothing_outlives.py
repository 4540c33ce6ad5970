"""Issue 8, item 9: nothing outlives its purpose (Art. 5(1)(e)): the portal session, the answer
files, data subjects' IP addresses in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.db import models
from django.utils import timezone

from core.audit import Actor, audit_record
from core.models import AuditEvent
from core.registry import registry
from requests_dsar import tasks
from requests_dsar.models import DataSubjectRequest, RequestEvent
from tests.subjects.factories import ContactFactory

from .conftest import last_link
from .factories import RequestFactory

pytestmark = pytest.mark.django_db

KARI = "kari.nordmann@firma.no"


def confirm(client, committed, type: str = "access") -> DataSubjectRequest:
    with committed():
        client.post("/portal/request/", {"type": type, "email": KARI, "name": "Kari Nordmann"})
    with committed():
        response = client.post(f"/portal/confirm/{last_link('confirm')}/")
    assert response.status_code == 302
    return DataSubjectRequest.objects.get(email=KARI)


class TestThePortalSession:
    def test_it_holds_the_request_and_never_the_address(self, client, committed):
        ContactFactory(email=KARI)
        request = confirm(client, committed)

        stored = Session.objects.get(session_key=client.session.session_key).get_decoded()
        stored.pop("_session_expiry", None)
        assert stored == {"dsar_request_id": request.pk}
        assert KARI not in repr(stored)

    def test_it_lasts_a_visit_not_weeks(self, client, committed):
        confirm(client, committed)

        expires = Session.objects.get(session_key=client.session.session_key).expire_date
        assert expires <= timezone.now() + timedelta(minutes=settings.DSAR_PORTAL_SESSION_MINUTES, seconds=5)

    def test_the_preferences_page_still_finds_the_person_through_the_request(self, client, committed):
        ContactFactory(email=KARI)
        confirm(client, committed)

        assert client.get("/portal/preferences/").status_code == 200

    def test_a_redacted_request_opens_no_preferences(self, client, committed):
        request = confirm(client, committed)
        DataSubjectRequest.objects.filter(pk=request.pk).update(email="", redacted_at=timezone.now())

        assert client.get("/portal/preferences/").status_code == 403

    def test_expired_sessions_are_cleared_by_a_task_beat_runs(self):
        old, live = SessionStore(), SessionStore()
        old["dsar_request_id"] = 1
        old.set_expiry(-60)
        old.create()
        live["dsar_request_id"] = 2
        live.create()

        tasks.sessions_clear_expired.delay()

        assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
        scheduled = {spec["task"] for spec in settings.PERIODIC_TASKS.values()}
        assert "requests_dsar.tasks.sessions_clear_expired" in scheduled

    def test_sessions_are_declared_with_their_retention(self):
        declaration = next(d for d in registry.personal() if d.model is Session)
        assert declaration.retention_anchor == "expire_date"
        assert str(settings.DSAR_PORTAL_SESSION_MINUTES) in str(declaration.retention_note)


class TestAnswerFiles:
    def closed(self, days_ago: int) -> DataSubjectRequest:
        request = RequestFactory(status=DataSubjectRequest.Status.COMPLETED)
        request.answer_file.save(f"{request.reference}.zip", ContentFile(b"PK copy of the data"), save=False)
        request.closed_at = timezone.now() - timedelta(days=days_ago)
        request.save()
        return request

    def test_an_answer_goes_the_declared_time_after_the_request_closed(self, committed):
        keep = settings.DSAR_ANSWER_FILE_KEEP_DAYS
        due, fresh = self.closed(keep + 1), self.closed(keep - 1)
        storage, name = due.answer_file.storage, due.answer_file.name

        with committed():
            assert tasks.requests_answer_files_expire.delay().get() == 1

        due.refresh_from_db()
        fresh.refresh_from_db()
        assert not due.answer_file and not storage.exists(name)
        assert fresh.answer_file and storage.exists(fresh.answer_file.name)
        # The fact that we answered stays, with the step in its history.
        assert due.status == DataSubjectRequest.Status.COMPLETED
        assert RequestEvent.objects.filter(request=due, action=RequestEvent.Action.ANSWER_DELETED).exists()
        assert AuditEvent.objects.filter(action="dsar.answer_file_delete", target_id=str(due.pk)).exists()

    def test_running_twice_deletes_nothing_twice(self, committed):
        self.closed(settings.DSAR_ANSWER_FILE_KEEP_DAYS + 1)
        with committed():
            tasks.requests_answer_files_expire.delay()
        with committed():
            assert tasks.requests_answer_files_expire.delay().get() == 0
        assert RequestEvent.objects.filter(action=RequestEvent.Action.ANSWER_DELETED).count() == 1

    def test_staff_see_when_the_answer_goes(self, staff_client):
        request = self.closed(2)
        until = timezone.localdate(request.closed_at) + timedelta(days=settings.DSAR_ANSWER_FILE_KEEP_DAYS)

        page = staff_client.get(
            f"/admin/requests_dsar/datasubjectrequest/{request.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
        )

        assert "answer file kept until" in page.content.decode().lower()
        assert until.strftime("%Y-%m-%d") in page.content.decode()

    def test_the_period_is_declared_and_scheduled(self):
        declaration = next(d for d in registry.personal() if d.model is DataSubjectRequest)
        assert str(settings.DSAR_ANSWER_FILE_KEEP_DAYS) in str(declaration.retention_note)
        scheduled = {spec["task"] for spec in settings.PERIODIC_TASKS.values()}
        assert "requests_dsar.tasks.requests_answer_files_expire" in scheduled


class TestSubjectAddresses:
    def event(self, actor: Actor, days_ago: int) -> AuditEvent:
        from core.audit_chain import chain_append

        event = AuditEvent(
            at=timezone.now() - timedelta(days=days_ago), actor_kind=actor.kind, actor_id=actor.id,
            action="dsar.verify", target_type="requests_dsar.datasubjectrequest", target_id="1",
            ip_address=actor.ip_address,
        )  # fmt: skip
        return chain_append([event])[0]

    def test_a_data_subjects_address_is_emptied_after_its_period(self):
        keep = settings.AUDIT_SUBJECT_IP_KEEP_DAYS
        old = self.event(Actor.subject("203.0.113.7"), keep + 1)
        recent = self.event(Actor.subject("203.0.113.8"), keep - 1)
        staff = self.event(Actor(kind="staff", id="1", ip_address="198.51.100.1"), keep + 1)

        result = tasks.subject_ips_expire.delay().get()

        assert result["audit_events"] == 1
        addresses = dict(AuditEvent.objects.values_list("pk", "ip_address"))
        assert addresses == {old.pk: None, recent.pk: "203.0.113.8", staff.pk: "198.51.100.1"}
        # The event itself stays, and the hash chain still verifies (it covers a keyed hash of the address).
        assert AuditEvent.objects.filter(pk=old.pk, action="dsar.verify").exists()
        from core.audit_chain import chain_verify

        assert chain_verify().broken_seq is None
        scheduled = {spec["task"] for spec in settings.PERIODIC_TASKS.values()}
        assert "requests_dsar.tasks.subject_ips_expire" in scheduled

    def test_the_address_a_download_came_from_goes_from_the_request_history_too(self):
        request = RequestFactory()
        RequestEvent.objects.create(
            request=request, action=RequestEvent.Action.DOWNLOADED, actor_kind="subject",
            note="203.0.113.9", at=timezone.now() - timedelta(days=settings.AUDIT_SUBJECT_IP_KEEP_DAYS + 1),
        )  # fmt: skip

        assert tasks.subject_ips_expire.delay().get()["request_events"] == 1
        assert not RequestEvent.objects.filter(note="203.0.113.9").exists()

    def test_the_audit_trail_declares_the_address_with_its_period(self):
        declaration = next(d for d in registry.personal() if d.model is AuditEvent)
        assert "ip_address" in declaration.personal_fields
        assert str(settings.AUDIT_SUBJECT_IP_KEEP_DAYS) in str(declaration.retention_note)
        assert "holds no data about you" not in str(declaration.kept_because)

    def test_the_trail_still_refuses_every_other_change(self):
        from django.db import DatabaseError, connection, transaction

        if connection.vendor != "postgresql":
            pytest.skip("the append-only trigger is PostgreSQL's (set DATABASE_URL)")
        event = self.event(Actor.subject("203.0.113.11"), 1)
        plain = models.QuerySet(model=AuditEvent).filter(pk=event.pk)
        for change in ({"action": "dsar.other"}, {"ip_address": "192.0.2.1"}):
            with pytest.raises(DatabaseError), transaction.atomic():
                plain.update(**change)
        with pytest.raises(DatabaseError), transaction.atomic():
            plain.delete()

    def test_audit_record_still_keeps_a_fresh_address(self):
        audit_record(actor=Actor.subject("203.0.113.10"), action="dsar.verify", target_type="x", target_id=1)
        tasks.subject_ips_expire.delay()
        assert AuditEvent.objects.filter(ip_address="203.0.113.10").exists()
