"""Bulk contact imports through the API: a job per upload, run by a Celery task.

The rows go through ``subjects.services.contacts_import``, the same rules as the
admin and ``import_contacts``: every row is checked first, and one bad row means
nothing is written. The job's errors name the row and the field, never the value.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from subjects import services as subject_services

from .models import ApiClient, ImportJob
from .problems import Problem, invalid_input

FORMATS = {
    "application/x-ndjson": ImportJob.Format.NDJSON,
    "application/ndjson": ImportJob.Format.NDJSON,
    "application/jsonl": ImportJob.Format.NDJSON,
    "text/csv": ImportJob.Format.CSV,
}
# One job holds at most this many rows (split larger lists; each runs in one transaction).
MAX_ROWS = 200_000


def import_job_create(
    *,
    client: ApiClient,
    actor: Actor,
    format: str,
    content: bytes,
    source_type: str,
    source_name: str,
    source_attests_consent: bool,
) -> ImportJob:
    """Store the upload as a queued job and start its task after commit."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid_input(detail=_("The rows must be UTF-8 text.")) from None
    if "\x00" in text:
        raise invalid_input(detail=_("The rows must not contain NUL characters."))
    rows = sum(1 for line in text.splitlines() if line.strip()) - (1 if format == ImportJob.Format.CSV else 0)
    if rows <= 0:
        raise invalid_input(detail=_("There are no rows to import."))
    if rows > MAX_ROWS:
        raise Problem(
            status_code=413, kind="payload-too-large",
            detail=_("At most %(n)d rows per import; split the list.") % {"n": MAX_ROWS},
        )  # fmt: skip
    with transaction.atomic():
        job = ImportJob.objects.create(
            client=client, format=format, source_type=source_type, source_name=source_name,
            source_attests_consent=source_attests_consent, payload=text, rows_total=rows,
        )  # fmt: skip
        audit_record(actor=actor, action="import.queue", target=job, fields=["payload"])
        from .tasks import import_job_run

        transaction.on_commit(lambda: import_job_run.delay(job.pk))
    return job


def job_answer(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "status": job.status,
        "rows_total": job.rows_total,
        "created": job.created,
        "updated": job.updated,
        "organisations_created": job.organisations_created,
        "errors": job.errors,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


def _rows(job: ImportJob, errors: list[dict[str, Any]]) -> Iterator[dict[str, str]]:
    if job.format == ImportJob.Format.CSV:
        reader = csv.DictReader(io.StringIO(job.payload))
        for row in reader:
            yield {str(k): (v if isinstance(v, str) else "") for k, v in row.items() if k is not None}
        return
    number = 0
    for line in job.payload.splitlines():
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            errors.append({"row": number, "field": "", "message": str(_("The row is not a JSON object."))})
            yield {}
            continue
        row: dict[str, str] = {}
        for key, item in value.items():
            if isinstance(item, (bool, list, dict)):
                errors.append({"row": number, "field": str(key)[:50], "message": str(_("Expected text."))})
            elif item is not None:
                row[str(key)] = str(item)
        yield row


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job once (claimed by a conditional UPDATE, so a second run does nothing)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("client").get(pk=job_id)
    actor = Actor.api_client(str(job.client_id))
    errors: list[dict[str, Any]] = []
    rows = list(_rows(job, errors))
    result = None
    if not errors:
        try:
            result = subject_services.contacts_import(
                rows=rows, source_type=job.source_type, source_name=job.source_name,
                source_attests_consent=job.source_attests_consent, actor=actor,
            )  # fmt: skip
        except ValidationError as error:
            problems = getattr(error, "import_problems", None)
            if problems is None:
                errors = [{"row": 0, "field": "", "message": m} for m in error.messages]
            else:
                errors = [{"row": p.row, "field": p.field, "message": p.message} for p in problems]
    changes: dict[str, Any] = {"payload": "", "finished_at": timezone.now(), "errors": errors[:1000]}
    if result is None:
        changes["status"] = ImportJob.Status.REJECTED
    else:
        changes.update(
            status=ImportJob.Status.SUCCEEDED, created=result.created, updated=result.updated,
            organisations_created=result.organisations_created,
        )  # fmt: skip
    ImportJob.objects.filter(pk=job_id).update(**changes)
    audit_record(actor=actor, action=f"import.{changes['status']}", target=job, fields=["status"])
    job.refresh_from_db()
    return job
