"""Reads through the API are audited without waiting for the disk; writes are audited durably.

The mail tool checks consent before every send, so the audit event of a check must not cost a
write-ahead-log flush under the chain's lock (issue 10's single check under load; README,
bench_api). core.audit.audit_record_read commits a read's event with PostgreSQL's
synchronous_commit off for that one transaction, sent as one statement on its own; the event
is still recorded and chained.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.audit_chain import chain_verify
from core.models import AuditEvent
from tests.conftest import needs_postgres
from tests.subjects.factories import ContactFactory

pytestmark = [needs_postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CHECK = "/api/v1/consent/check"
ASYNC = "set_config('synchronous_commit', 'off', true)"


def _asked_async(queries: CaptureQueriesContext) -> bool:
    # The read's append runs as a statement prepared once per connection (issue 10): either
    # its text was sent, or its name, and then the server's copy of it must say the same.
    sent = [q["sql"] for q in queries.captured_queries]
    if any(ASYNC in sql and "INSERT INTO core_auditevent" in sql for sql in sent):
        return True
    if not any(sql.startswith("EXECUTE pv_audit_append_read(") for sql in sent):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = 'pv_audit_append_read'")
        (statement,) = cursor.fetchone()
    return ASYNC in statement and "INSERT INTO core_auditevent" in statement


def test_a_single_check_is_audited_without_waiting_for_the_disk_and_the_chain_holds(caller):
    contact = ContactFactory()
    with CaptureQueriesContext(connection) as queries:
        response = caller.get(CHECK, {"email": contact.email, "purpose": "marketing_products"})
    assert response.status_code == 200
    assert _asked_async(queries)
    event = AuditEvent.objects.get(action="api.consent_check")
    assert event.actor_id == str(caller.api_client.pk)
    assert chain_verify().ok


def test_a_bulk_check_posts_but_only_reads(caller):
    with CaptureQueriesContext(connection) as queries:
        response = caller.post(
            CHECK, {"purpose": "marketing_products", "emails": ["a@firma.no", "b@firma.no"]}
        )
    assert response.status_code == 200, response.content[:300]
    assert _asked_async(queries)
    assert AuditEvent.objects.filter(action="api.consent_check").count() == 1


def test_a_call_that_writes_is_audited_durably(caller):
    with CaptureQueriesContext(connection) as queries:
        response = caller.post(
            "/api/v1/contacts",
            {"email": "ny.kontakt@firma.no", "name": "Ny Kontakt", "source_type": "correspondence",
             "source_name": "CRM"},
        )  # fmt: skip
    assert response.status_code in (200, 201), response.content[:300]
    assert not _asked_async(queries)
    assert AuditEvent.objects.filter(action="api.contact_upsert").count() == 1
    assert chain_verify().ok


def test_inside_a_transaction_a_read_event_is_durable_like_any_other():
    from django.db import transaction

    from core.audit import Actor, audit_record_read

    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        event = audit_record_read(actor=Actor.system("test"), action="api.consent_check")
    assert event.seq and not _asked_async(queries)
    assert chain_verify().ok
