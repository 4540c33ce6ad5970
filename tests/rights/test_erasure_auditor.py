"""Issue 8, from the auditor's side: after an erasure the person is in no text column of any table.

The person had asked us something before and we answered by email; then
they ask to be erased. The erasure empties their older, closed request, and
the redaction after it must still find the copies of the emails we sent them
(their address in ``to``, their name in the body). The search below does not
trust the registry: it reads every text column of every table Django knows,
link tables included, and skips only keyed hashes (which cannot be read back).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast

from requests_dsar.models import DataSubjectRequest, RequestEmail, RequestEvent
from tests.requests_dsar.conftest import last_link

from .conftest import KARI

pytestmark = pytest.mark.django_db

NAME = "Kari Nordmann"
PHONE = "+4791234567"
TEXT = (models.CharField, models.TextField, models.JSONField)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _keyed_hash(field: models.Field) -> bool:
    # email_hash, ip_hash, chain_hash, previous_hash: keyed or chained digests, never the value.
    return field.name.endswith("hash")


def where_found(needle: str) -> list[str]:
    """``table.column`` of every text column in the database that contains ``needle`` (any case)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT) or _keyed_hash(field):
                continue
            rows = model._base_manager.annotate(_text=Cast(field.name, models.TextField()))
            if rows.filter(_text__icontains=needle).exists():
                found.append(f"{model._meta.db_table}.{field.column}")
    return found


def ask(client, committed, type: str, **extra) -> DataSubjectRequest:
    with committed():
        data = {"type": type, "email": KARI, "name": NAME, **extra}
        client.post("/portal/request/", data, HTTP_ACCEPT_LANGUAGE="en")
    with committed():
        client.post(f"/portal/confirm/{last_link('confirm')}/", HTTP_ACCEPT_LANGUAGE="en")
    return DataSubjectRequest.objects.filter(type=type).latest("pk")


def complete(staff_client, committed, request: DataSubjectRequest, **data) -> None:
    with committed():
        url = f"/admin/requests_dsar/datasubjectrequest/{request.pk}/act/complete/"
        response = staff_client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302, response.content.decode()[:2000]


def test_an_erased_person_is_in_no_text_column_not_even_in_the_emails_of_an_older_request(
    client, staff_client, committed, kari
):
    older = ask(client, committed, "other", details=f"Who gave you my number? Regards, {NAME}")
    complete(staff_client, committed, older, answer=f"Dear {NAME}, we found it in Proff Forvalt.")
    older.refresh_from_db()
    assert older.status == DataSubjectRequest.Status.COMPLETED
    # The search must be able to fail: the older request's sent emails hold the address and the name.
    sent = RequestEmail.objects.filter(request=older, status=RequestEmail.Status.SENT)
    assert sent.filter(to=KARI).exists()
    assert any(NAME in (e.body + e.html) for e in sent)
    assert where_found(KARI) and where_found(NAME)

    erasure = ask(client, committed, "erasure")
    complete(staff_client, committed, erasure, answer="")

    erasure.refresh_from_db()
    assert erasure.redacted_at is not None
    for needle in (KARI, NAME, PHONE):
        assert where_found(needle) == [], needle
    # What stays is the proof that both were answered, and when, without who asked.
    older.refresh_from_db()
    assert older.status == DataSubjectRequest.Status.COMPLETED and older.closed_at is not None
    # ... and when its details went: the record says so, as a request redacted on its own does.
    assert older.redacted_at is not None and older.email == ""
    assert older.events.filter(action=RequestEvent.Action.REDACTED).count() == 1
    assert RequestEmail.objects.filter(request=older).count() == sent.count()
