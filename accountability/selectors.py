"""Reads of the accountability registers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.registry import registry

from .models import EEA_COUNTRIES, BreachCommunication, Disclosure, ProcessingRecordVersion, Recipient

REVIEW_NOTICE_DAYS = 30


@dataclass(frozen=True)
class RecipientReach:
    """A model whose declaration names the recipient, and its data category."""

    label: str
    verbose_name: str
    category: str


def recipient_reach(*, code: str) -> list[RecipientReach]:
    """Which models and data categories reach this recipient, from the registry (no query)."""
    return [
        RecipientReach(d.label, str(d.model._meta.verbose_name_plural), d.category)
        for d in registry.personal()
        if code in d.recipients
    ]


def recipient_categories(*, code: str) -> list[str]:
    return sorted({reach.category for reach in recipient_reach(code=code)})


def disclosures_for(contact_ids: Iterable[int]) -> QuerySet[Disclosure]:
    """The disclosures of these register rows' data, newest first (Art. 15(1)(c)): one query."""
    return (
        Disclosure.objects.filter(contact_id__in=sorted(set(contact_ids)))
        .select_related("recipient")
        .order_by("-disclosed_at", "-id")
    )


def recipients_disclosed_to(contact_ids: Iterable[int]) -> list[Recipient]:
    """The recipients that actually received the data of these register rows."""
    ids = sorted(set(contact_ids))
    return list(Recipient.objects.filter(disclosures__contact_id__in=ids).distinct().order_by("name"))


def recipients_review_due(
    *, today: date | None = None, days: int = REVIEW_NOTICE_DAYS
) -> QuerySet[Recipient]:
    """Active recipients whose processing agreement is due for review within ``days`` (or overdue)."""
    today = today or timezone.localdate()
    return Recipient.objects.filter(is_active=True, dpa_next_review__lte=today + timedelta(days=days))


def recipients_transfer_without_mechanism() -> QuerySet[Recipient]:
    """Active recipients outside the EEA with no Chapter V ground for the transfer (Art. 44)."""
    return Recipient.objects.filter(is_active=True, transfer_mechanism="").exclude(
        country__in=sorted(EEA_COUNTRIES)
    )


def recipients_processor_without_agreement() -> QuerySet[Recipient]:
    """Processors with no signed agreement (Art. 28(3))."""
    return Recipient.objects.filter(
        Q(kind=Recipient.Kind.PROCESSOR) | Q(kind=Recipient.Kind.SUB_PROCESSOR),
        is_active=True,
        dpa_signed_on__isnull=True,
    )


def communication_progress(*, communication: BreachCommunication) -> dict[str, int]:
    """People told so far and in all, in one query (Art. 34 progress in the admin)."""
    return communication.people.aggregate(
        total=Count("id"), sent=Count("id", filter=Q(sent_at__isnull=False))
    )


def processing_record_as_at(
    *, on: date | None, language: str
) -> tuple[dict[str, Any] | None, datetime | None]:
    """The records of processing as they stood at the end of ``on`` (today or later: as they stand now).

    Returns (record, in force since); (None, None) when no version was kept
    that early. A past date is read from the versions kept, never rebuilt from
    today's configuration.
    """
    from . import records

    today = timezone.localdate()
    if on is None or on >= today:
        from django.utils import translation

        with translation.override(language):
            return records.build_record(), timezone.now()
    end = timezone.make_aware(datetime.combine(on + timedelta(days=1), time.min))
    version = ProcessingRecordVersion.objects.filter(taken_at__lt=end).order_by("-taken_at", "-id").first()
    if version is None:
        return None, None
    return version.content.get(language) or version.content.get("nb"), version.taken_at
