"""What the request workflow deletes once its purpose is over (Art. 5(1)(e))."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.audit import Actor, audit_record

from ..models import RequestEmail, RequestEvent
from .base import Action, Request, Status, _event, _setting


def requests_unconfirmed_purge(*, older_than_days: int | None = None) -> int:
    """Delete requests never confirmed: we cannot know they came from the person (Art. 5(1)(e)).

    Through the removal engine, like every removal of personal data: the
    history and email copies first (records kept on purpose for a confirmed
    request; an unconfirmed one proves nothing), then the requests themselves.
    """
    from core.registry import registry
    from core.removal import Action as Removal
    from core.removal import Door, Target, removal_execute

    days = older_than_days if older_than_days is not None else _setting("DSAR_UNCONFIRMED_KEEP_DAYS", 30)
    cutoff = timezone.now() - timedelta(days=days)
    actor = Actor.system("dsar.purge")
    with transaction.atomic():
        ids = list(
            Request.objects.select_for_update()
            .filter(status=Status.RECEIVED, submitted_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0

        def target(model: type, rows: object) -> Target:
            return Target(registry.get(model), rows, action=Removal.DELETE)

        # Two calls, children first: the engine keeps a row that a kept record still points at.
        removal_execute(
            targets=[
                target(RequestEvent, RequestEvent.objects.filter(request_id__in=ids)),
                target(RequestEmail, RequestEmail.objects.filter(request_id__in=ids)),
            ],
            door=Door.SWEEP, actor=actor, reference="unconfirmed", audit_action="dsar.purge_unconfirmed",
        )  # fmt: skip
        outcome = removal_execute(
            targets=[target(Request, Request.objects.filter(pk__in=ids))],
            door=Door.SWEEP, actor=actor, reference="unconfirmed", audit_action="dsar.purge_unconfirmed",
        )  # fmt: skip
    return outcome.erased.get(Request._meta.label_lower, 0)


def requests_answer_files_expire(*, now: datetime | None = None) -> int:
    """Delete the answer files (a full copy of the person's data) a declared time after closing.

    ``DSAR_ANSWER_FILE_KEEP_DAYS`` after the request closed, the access or
    portability answer has served its purpose (Art. 5(1)(e)); the record that we
    answered stays. Each request is claimed by a conditional UPDATE, so two runs
    delete nothing twice; the files leave storage after commit.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=answer_file_keep_days())
    due = (
        Request.objects.filter(closed_at__lt=cutoff).exclude(answer_file="").values_list("pk", "answer_file")
    )
    actor = Actor.system("dsar.answer_files")
    deleted = 0
    for pk, name in due.iterator():
        with transaction.atomic():
            claimed = Request.objects.filter(pk=pk, answer_file=name).update(answer_file="")
            if not claimed:
                continue
            request = Request.objects.get(pk=pk)
            _event(request, Action.ANSWER_DELETED, actor)
            audit_record(
                actor=actor, action="dsar.answer_file_delete", target=request, fields=["answer_file"]
            )
            storage = Request._meta.get_field("answer_file").storage
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name), robust=True)
            deleted += 1
    return deleted


def answer_file_keep_days() -> int:
    return int(_setting("DSAR_ANSWER_FILE_KEEP_DAYS", 30))


def request_history_ips_expire(*, before: datetime) -> int:
    """Empty the address a download was made from, in the request's history, after its period.

    The same period as the audit trail's (``AUDIT_SUBJECT_IP_KEEP_DAYS``): it is
    the same fact, the person's IP address, kept for the same reason.
    """
    return (
        RequestEvent.objects.filter(action=Action.DOWNLOADED, at__lt=before).exclude(note="").update(note="")
    )
