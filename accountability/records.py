"""The records of processing activities (Art. 30), generated from the configuration, never typed twice.

Readers of: the purposes catalogue (consent.Purpose), the registry of personal
data (core.registry), the retention policies in force (retention), the
register of recipients and the processing done for customers (this app).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _

from consent.models import Purpose
from core.registry import registry
from retention.models import RetentionPolicy
from rights.vocabulary import category_label, purpose_label

from .models import ProcessorActivity, Recipient

# Categories of people whose data each category of data is (Art. 30(1)(c)).
PEOPLE = {
    "job_application": "applicants",
    "web_visit": "visitors",
    "business_contact": "supplier_contacts",
}


def _people_label(code: str) -> str:
    return {
        "contacts": _("Representatives of customers, suppliers, partners and prospects"),
        "applicants": _("Job applicants"),
        "visitors": _("Visitors to our website"),
        "supplier_contacts": _("Contact persons of our processors and other recipients"),
    }[code]


def security_measures() -> list[str]:
    """Art. 30(1)(g), 32(1): the measures the product itself enforces."""
    return [
        _("Staff roles with least privilege, and two-factor login for staff"),
        _("A tamper-evident audit trail of who saw and changed what"),
        _("Encrypted connections (HTTPS) and secure session cookies"),
        _("Retention policies enforced by scheduled sweeps, with a safety valve"),
        _("Keyed hashes instead of addresses wherever a record must outlive the person"),
        _("Backups restored only through the erasure replay, so erased people stay erased"),
    ]


def _retention_text(policy: RetentionPolicy | None, notes: list[str]) -> str:
    if policy is not None:
        action = _("deleted") if policy.action == RetentionPolicy.Action.DELETE else _("anonymised")
        return _("%(days)d days, then %(action)s (policy %(code)s)") % {
            "days": policy.period_days, "action": action, "code": policy.code,
        }  # fmt: skip
    return "; ".join(sorted({n for n in notes if n})) or _("No retention policy yet")


def _recipient_entry(recipient: Recipient) -> dict[str, Any]:
    return {
        "code": recipient.code,
        "name": recipient.name,
        "kind": str(recipient.get_kind_display()),
        "country": recipient.country,
    }


def _transfer_entry(recipient: Recipient) -> dict[str, Any]:
    mechanism = recipient.get_transfer_mechanism_display() if recipient.transfer_mechanism else _("None")
    return {
        "recipient": recipient.name,
        "country": recipient.country,
        "mechanism": str(mechanism),
        "dated": recipient.transfer_mechanism_date.isoformat() if recipient.transfer_mechanism_date else "",
    }


def build_record() -> dict[str, Any]:
    """The records of processing in the active language: a fixed number of queries."""
    purposes = {p.code: p for p in Purpose.objects.all()}
    policies = {p.category: p for p in RetentionPolicy.objects.filter(enabled=True).order_by("-period_days")}
    recipients = {r.code: r for r in Recipient.objects.filter(is_active=True)}
    declarations = registry.personal()

    codes = sorted(
        {code for code, p in purposes.items() if p.is_active} | {c for d in declarations for c in d.purposes}
    )
    activities = []
    for code in codes:
        purpose = purposes.get(code)
        using = [d for d in declarations if code in d.purposes]
        categories = sorted({d.category for d in using} | set(purpose.data_categories if purpose else []))
        recipient_codes = sorted(
            {c for d in using for c in d.recipients}
            | {r.code for r in recipients.values() if code in r.purposes}
        )
        chosen = [recipients[c] for c in recipient_codes if c in recipients]
        language = (translation.get_language() or "nb")[:2]
        activities.append({
            "purpose": code,
            "name": (getattr(purpose, f"name_{language}", "") if purpose else "") or purpose_label(code),
            "legal_basis": str(purpose.get_legal_basis_display()) if purpose else "",
            "categories_of_people": sorted({_people_label(PEOPLE.get(c, "contacts")) for c in categories}),
            "categories_of_data": [category_label(c) for c in categories],
            "recipients": [_recipient_entry(r) for r in chosen],
            "transfers": [_transfer_entry(r) for r in chosen if r.outside_eea],
            "retention": {
                category_label(c): _retention_text(
                    policies.get(c), [str(d.retention_note) for d in using if d.category == c]
                )
                for c in categories
            },
        })  # fmt: skip

    on_behalf = (
        ProcessorActivity.objects.filter(ended_on__isnull=True)
        .select_related("customer")
        .prefetch_related(Prefetch("sub_processors", queryset=Recipient.objects.order_by("code")))
    )
    processor = [
        {
            "customer": a.customer.name,
            "org_number": a.customer.org_number or "",
            "processing": a.processing,
            "sub_processors": [_recipient_entry(r) for r in a.sub_processors.all()],
            "transfers": [_transfer_entry(r) for r in a.sub_processors.all() if r.outside_eea],
        }
        for a in on_behalf
    ]
    return {
        "controller": {"activities": activities, "security_measures": security_measures()},
        "processor": {"activities": processor, "security_measures": security_measures()},
    }


def build_both_languages() -> dict[str, Any]:
    content = {}
    for language in ("nb", "en"):
        with translation.override(language):
            content[language] = build_record()
    return content


def digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def flatten(record: dict[str, Any]) -> dict[str, str]:
    """Each fact of the record as one line, keyed by where it is: the diff and the CSV read these."""
    lines: dict[str, str] = {}
    for part in ("controller", "processor"):
        for activity in record[part]["activities"]:
            name = activity.get("purpose") or activity.get("customer")
            for key, value in activity.items():
                if key in {"purpose", "customer"}:
                    continue
                lines[f"{part} / {name} / {key}"] = _text(value)
        lines[f"{part} / security_measures"] = _text(record[part]["security_measures"])
    return lines


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_text(v) for v in value)
    return str(value)


def as_csv(record: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["where", "value"])
    for where, value in flatten(record).items():
        writer.writerow([where, value])
    return out.getvalue()


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(where, before, after) of every line that differs; an empty side means added or removed."""
    before, after = flatten(old), flatten(new)
    return [
        (where, before.get(where, ""), after.get(where, ""))
        for where in sorted(set(before) | set(after))
        if before.get(where) != after.get(where)
    ]
