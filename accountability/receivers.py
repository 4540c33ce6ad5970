"""Receivers of the domain events (core.events): the disclosure log writes in the sender's transaction."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_save
from django.dispatch import receiver

from core.audit import Actor
from core.events import data_disclosed

from . import services
from .models import Recipient

logger = logging.getLogger(__name__)


@receiver(data_disclosed, dispatch_uid="accountability.disclosure_log")
def log_disclosure(
    sender: Any,
    *,
    recipient: str,
    contact_ids: list[int],
    categories: list[str],
    purpose: str = "",
    channel: str,
    reason: str = "",
    **kwargs: Any,
) -> None:
    # Art. 30(1)(d) and 15(1)(c): the row commits with the disclosure it describes, or neither does.
    if not Recipient.objects.filter(code=recipient).exists():
        # A code the register lacks (set on an API client or a webhook by hand): the data has
        # already left, so refusing would only roll back the sender's record of it and send it
        # again. Logged by code (never a person); the database check names it (accountability.E002).
        logger.error("disclosure to unregistered recipient %r not logged (channel %s)", recipient, channel)
        return
    services.disclosure_record(
        recipient=recipient,
        contact_ids=contact_ids,
        categories=categories,
        purpose=purpose,
        channel=channel,
        reason=reason,
        actor=kwargs.get("actor") or Actor.system(f"disclosure.{channel}"),
    )


def _keep_processing_record(sender: Any, **kwargs: Any) -> None:
    # Art. 30 "as at a date": a change to what the records are made of keeps a new version.
    if kwargs.get("raw"):
        return  # loading fixtures
    transaction.on_commit(services.processing_record_snapshot)


for _source in ("consent.Purpose", "retention.RetentionPolicy", "accountability.Recipient",
                "accountability.ProcessorActivity"):  # fmt: skip
    post_save.connect(
        _keep_processing_record, sender=_source, dispatch_uid=f"accountability.record.{_source}"
    )
m2m_changed.connect(
    _keep_processing_record,
    sender="accountability.ProcessorActivity_sub_processors",
    dispatch_uid="accountability.record.subprocessors",
)
