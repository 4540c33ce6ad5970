"""The portal with the real Celery worker: the emails really leave from the worker, after commit."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
from django.utils import timezone

from requests_dsar.models import DataSubjectRequest, RequestEmail
from tests.conftest import wait_for
from tests.subjects.factories import ContactFactory, InteractionFactory

from .conftest import LINK

# serialized_rollback: see test_browser.py (the worker needs committed rows).
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def worker_mail(mail_dir: Path, to: str) -> list[str]:
    """Plain-text bodies of the emails the worker wrote to files, for one address."""
    bodies = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_text().split("-" * 79):
            if not chunk.strip():
                continue
            message = email.message_from_string(chunk.strip(), policy=policy.default)
            if to in str(message["To"]):
                bodies.append(message.get_body(preferencelist=("plain",)).get_content())
    return bodies


def worker_link(mail_dir: Path, to: str, kind: str, *, after: int = 0) -> str | None:
    bodies = worker_mail(mail_dir, to)[after:]
    tokens = [token for body in bodies for k, token in LINK.findall(body) if k == kind]
    return tokens[-1] if tokens else None


def test_the_worker_sends_the_links_and_builds_the_access_answer(celery_worker, client, staff_user):
    to = "kari.worker@firma.no"
    contact = ContactFactory(email=to, name="Kari Worker")
    InteractionFactory.create_batch(2, contact=contact)
    mail_dir = celery_worker["mail_dir"]

    response = client.post("/portal/request/", {"type": "access", "email": to})
    assert response.status_code == 302
    token = wait_for(lambda: worker_link(mail_dir, to, "confirm"))

    assert client.post(f"/portal/confirm/{token}/").status_code == 302
    request = DataSubjectRequest.objects.get(email=to)
    assert request.status == DataSubjectRequest.Status.VERIFIED
    wait_for(lambda: worker_link(mail_dir, to, "s"))

    client.force_login(staff_user)
    response = client.post(
        f"/admin/requests_dsar/datasubjectrequest/{request.pk}/act/complete/", {"answer": ""}
    )
    assert response.status_code == 302
    wait_for(
        lambda: DataSubjectRequest.objects.filter(pk=request.pk, status="completed").exists(), timeout=40
    )
    assert wait_for(lambda: worker_link(mail_dir, to, "download"), timeout=20)
    request.refresh_from_db()
    assert request.answer_file
    kinds = set(RequestEmail.objects.filter(request=request).values_list("kind", flat=True))
    assert kinds == {"verify", "received", "completed"}


def test_the_worker_answers_and_redacts_an_erasure_while_the_journal_volume_is_missing(
    celery_worker, client, staff_user, settings, tmp_path
):
    # Issue 8, item 10: the journal path .env.example suggests, on a volume not mounted.
    settings.ERASURE_JOURNAL_FILE = str(tmp_path / "not-mounted" / "erasure-journal.jsonl")
    to = "kari.erasure@firma.no"
    ContactFactory(email=to, name="Kari Sletting")
    request = DataSubjectRequest.objects.create(
        reference="DSR-WORKER1", type="erasure", status="verified", email=to, name="Kari Sletting",
        language="en", received_at=timezone.now(), first_due_date=timezone.localdate(),
        due_date=timezone.localdate(),
    )  # fmt: skip
    mail_dir = celery_worker["mail_dir"]

    client.force_login(staff_user)
    response = client.post(
        f"/admin/requests_dsar/datasubjectrequest/{request.pk}/act/complete/", {"answer": ""}
    )

    assert response.status_code == 302
    answer = wait_for(lambda: [b for b in worker_mail(mail_dir, to) if "We have erased" in b], timeout=30)
    assert answer
    wait_for(lambda: DataSubjectRequest.objects.filter(pk=request.pk).exclude(redacted_at=None).exists())
    request.refresh_from_db()
    assert (request.email, request.name) == ("", "")
    wait_for(lambda: RequestEmail.objects.filter(request=request, status="sent", to="").exists())
