"""The audit trail's hash chain: tampering by a database owner is found (Art. 32)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from core.audit import Actor, audit_record, audit_record_many
from core.audit_chain import GENESIS_HASH, chain_verify
from core.audit_retention import audit_ip_expire
from core.models import AuditChainHead, AuditChainVerification, AuditEvent
from core.selectors import audit_chain_last_verified
from core.services import audit_chain_check
from subjects.models import Contact
from tests.conftest import needs_postgres
from tests.requests_dsar.factories import RequestFactory

pytestmark = pytest.mark.django_db


def _events(n: int, ip: str | None = "198.51.100.7") -> list[AuditEvent]:
    return [
        audit_record(
            actor=Actor.subject(ip), action="contact.view", target_type="subjects.contact", target_id=i
        )
        for i in range(n)
    ]


def _tamper(sql: str, params: list[object]) -> None:
    """What a database owner can do: switch the append-only trigger off, write, switch it on."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE core_auditevent ENABLE TRIGGER core_auditevent_append_only")


def test_each_event_points_at_the_hash_of_the_one_before():
    first, second, third = _events(3)
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.chain_hash
    assert third.previous_hash == second.chain_hash
    assert len({first.chain_hash, second.chain_hash, third.chain_hash}) == 3
    report = chain_verify()
    assert report.ok and report.events_checked == 3 and report.head_hash == third.chain_hash


def test_the_address_is_outside_the_hash_and_only_its_keyed_hash_is_chained():
    event = _events(1, ip="203.0.113.9")[0]
    assert event.ip_hash and "203.0.113.9" not in event.ip_hash
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.ip_address == "203.0.113.9"
    assert audit_ip_expire(before=timezone.now() + timedelta(seconds=1)) == 1
    assert AuditEvent.objects.get(pk=event.pk).ip_address is None
    assert chain_verify().ok


def test_bulk_records_are_chained_in_order(staff_user):
    _events(1)
    assert audit_record_many(
        actor=Actor.staff(staff_user), action="contact.export", model=Contact, ids=[7, 8]
    )
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", "target_id")) == [
        (1, "0"),
        (2, "7"),
        (3, "8"),
    ]
    assert chain_verify().ok


def test_audit_verify_passes_records_when_and_anchors_the_head(tmp_path, settings, capsys):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.txt")
    events = _events(4)
    assert audit_chain_last_verified() is None
    call_command("audit_verify")
    assert "4 events" in capsys.readouterr().out
    verification = AuditChainVerification.objects.get()
    assert verification.ok and verification.head_seq == 4
    assert audit_chain_last_verified() == verification.at
    line = (tmp_path / "anchor.txt").read_text().split()
    assert line[1:] == ["4", events[-1].chain_hash]
    assert mail.outbox == []


@needs_postgres
def test_an_event_edited_in_the_database_is_found_and_the_privacy_officer_told(settings):
    settings.PRIVACY_OFFICER_EMAIL = "dpo@firma.no"
    events = _events(5)
    _tamper("UPDATE core_auditevent SET action = 'nothing.happened' WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match="event 3 was changed"):
        call_command("audit_verify")
    verification = AuditChainVerification.objects.get()
    assert not verification.ok and verification.broken_seq == 3
    assert audit_chain_last_verified() is None
    assert [m.to for m in mail.outbox] == [["dpo@firma.no"]]
    assert "3" in mail.outbox[0].body


@needs_postgres
def test_an_edited_address_is_found_although_it_is_outside_the_hash():
    events = _events(3)
    _tamper("UPDATE core_auditevent SET ip_address = '192.0.2.1' WHERE id = %s", [events[1].pk])
    report = chain_verify()
    assert not report.ok and report.broken_seq == 2 and "address" in report.problem


@needs_postgres
def test_an_event_deleted_in_the_database_is_found():
    events = _events(5)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    report = chain_verify()
    assert not report.ok and report.broken_seq == 3
    assert "missing" in report.problem


@needs_postgres
def test_a_relinked_chain_after_a_deletion_is_found():
    # The owner deletes event 2 and renumbers event 3 to hide the gap: its hash no longer fits.
    events = _events(3)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    _tamper(
        "UPDATE core_auditevent SET seq = 2, previous_hash = %s WHERE id = %s",
        [events[0].chain_hash, events[2].pk],
    )
    report = chain_verify()
    assert not report.ok and report.broken_seq == 2 and "changed" in report.problem


@needs_postgres
def test_removing_the_newest_events_after_a_passing_run_is_found():
    events = _events(4)
    assert audit_chain_check(anchor=False)[1].ok
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[3].pk])
    report = chain_verify()
    assert not report.ok and report.broken_seq == 4


@needs_postgres
def test_a_rewritten_chain_is_found_through_the_anchor_file(tmp_path, settings):
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.txt")
    _events(2)
    assert audit_chain_check()[1].ok
    # A restore or a rewrite from scratch: a consistent chain, but not the anchored one.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_auditevent, core_auditchainverification, core_auditchainhead")
    _events(3, ip=None)
    report = chain_verify()
    assert not report.ok and "anchor file" in report.problem


@needs_postgres
def test_postgresql_allows_forgetting_an_address_and_nothing_else():
    event = _events(1)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE core_auditevent SET ip_address = '192.0.2.1' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute("UPDATE core_auditevent SET ip_address = NULL, action = 'x' WHERE id = %s", [event.pk])
    with connection.cursor() as c:
        c.execute("UPDATE core_auditevent SET ip_address = NULL WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).ip_address is None
    assert chain_verify().ok


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_valid_chain():
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(15):
                with transaction.atomic():
                    audit_record(actor=Actor.system(f"writer{n}"), action="test.write", target_id=i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 61))
    report = chain_verify(batch=7)
    assert report.ok and report.events_checked == 60


def test_opening_a_request_or_a_contact_in_the_admin_is_audited_with_the_role(client, django_user_model):
    from tests.subjects.factories import ContactFactory

    handler = django_user_model.objects.create_superuser("saksbehandler", "s@example.no", "pw")
    dsar = RequestFactory()
    contact = ContactFactory()
    client.force_login(handler)
    assert (
        client.get(reverse("admin:requests_dsar_datasubjectrequest_change", args=[dsar.pk])).status_code
        == 200
    )
    assert client.get(reverse("admin:subjects_contact_change", args=[contact.pk])).status_code == 200
    seen = AuditEvent.objects.filter(action__in=["datasubjectrequest.view", "contact.view"]).order_by("seq")
    assert [(e.action, e.actor_id, e.target_id, e.actor_role) for e in seen] == [
        ("datasubjectrequest.view", str(handler.pk), str(dsar.pk), "superuser"),
        ("contact.view", str(handler.pk), str(contact.pk), "superuser"),
    ]


def test_staff_events_carry_the_staff_members_roles(client, django_user_model):
    from django.test import RequestFactory as HttpRequests

    from core.audit import audit_read

    user = django_user_model.objects.create_user("revisor", "r@example.no", "pw", is_staff=True)
    user.groups.add(
        Group.objects.get_or_create(name="Auditor")[0],
        Group.objects.get_or_create(name="Sales and support")[0],
        Group.objects.get_or_create(name="Kantinekomiteen")[0],  # a group, not a role
    )
    request = HttpRequests().get("/")
    request.user = user
    dsar = RequestFactory()
    event = audit_read(request, target=dsar, action="dsar.report_view")
    assert (event.actor_role, event.action, event.target_id) == (
        "Auditor,Sales and support",
        "dsar.report_view",
        str(dsar.pk),
    )
    assert chain_verify().ok


@needs_postgres
def test_removing_the_newest_events_is_found_through_the_chain_head_without_a_passing_run():
    events = _events(4)
    _tamper("DELETE FROM core_auditevent WHERE id = %s", [events[3].pk])
    report = chain_verify()
    assert not report.ok and report.broken_seq == 4 and "chain head" in report.problem


def test_a_missing_head_is_rebuilt_from_the_last_event_and_the_chain_goes_on():
    _first, second = _events(2)
    AuditChainHead.objects.all().delete()
    third = _events(1)[0]
    assert (third.seq, third.previous_hash) == (3, second.chain_hash)
    assert AuditChainHead.objects.values_list("seq", "chain_hash").get() == (3, third.chain_hash)
    report = chain_verify()
    assert report.ok and report.events_checked == 3


def test_one_statement_and_the_python_path_hash_alike(staff_user):
    # The single event is hashed in PostgreSQL, a batch in Python: the verification
    # (in Python) must accept both, with every field that goes into the hash set.
    audit_record(
        actor=Actor.staff(staff_user, "198.51.100.9", role="Auditor,Ærlig \u202e"),
        action="contact.change", target_type="subjects.contact", target_id="42",
        fields=["name", "email", "ø"],
    )  # fmt: skip
    audit_record_many(actor=Actor.staff(staff_user), action="contact.export", model=Contact, ids=[1, 2])
    audit_record(actor=Actor.system("sweep"), action="retention.run")
    report = chain_verify()
    assert report.ok and report.events_checked == 4
