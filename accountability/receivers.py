"""Receivers of the domain events (core.events): the disclosure log writes in the sender's transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from core.audit import Actor
from core.events import data_disclosed

from . import services


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
    services.disclosure_record(
        recipient=recipient,
        contact_ids=contact_ids,
        categories=categories,
        purpose=purpose,
        channel=channel,
        reason=reason,
        actor=kwargs.get("actor") or Actor.system(f"disclosure.{channel}"),
    )
