"""A request the removal engine empties says so in its history, as one redacted on its own does."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.dispatch import receiver

from core.removal.signals import rows_removing

from .models import DataSubjectRequest, RequestEvent


@receiver(rows_removing, sender=DataSubjectRequest, dispatch_uid="dsar_engine_redaction_in_history")
def request_emptied_by_engine_recorded(
    sender: type[DataSubjectRequest], rows: QuerySet, actor: Any = None, **kwargs: Any
) -> Any:
    """Another request's erasure, or a retention policy, empties a kept request (Art. 5(2): we keep
    that we answered, not who asked); its history records "Personal details removed" and by whom.

    Read before the rows change: those not yet redacted. Afterwards, those of them the engine
    stamped (``details_removed_field``); a request it deleted instead has no history left to write.
    """
    before = list(rows.order_by().filter(redacted_at=None).values_list("pk", flat=True))
    if not before:
        return None

    def record() -> None:
        emptied = DataSubjectRequest.objects.filter(pk__in=before, redacted_at__isnull=False)
        staff_id = int(actor.id) if actor is not None and actor.kind == "staff" and actor.id else None
        RequestEvent.objects.bulk_create(
            RequestEvent(
                request_id=pk,
                action=RequestEvent.Action.REDACTED,
                actor_kind=actor.kind if actor is not None else "system",
                actor_id=staff_id,
            )
            for pk in emptied.values_list("pk", flat=True)
        )

    return record
