"""Writes to the register. Each service validates, writes in one transaction and audits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.validators import (
    clean_email,
    email_is_functional,
    normalise_org_number,
    normalise_phone,
)

from .models import Contact, Interaction, JobApplication, Organisation, WebVisit


def _normalise_contact_fields(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[ValidationError]] = {}
    for name, normalise in (("email", clean_email), ("phone", normalise_phone)):
        if name in values:
            try:
                values[name] = normalise(values[name])
            except ValidationError as error:
                errors[name] = [error]
    if errors:
        raise ValidationError(errors)
    return values


def _save(instance: models.Model, *, update_fields: Iterable[str] | None = None) -> None:
    instance.full_clean()
    instance.save(update_fields=list(update_fields) if update_fields is not None else None)


def organisation_create(*, actor: Actor, **values: Any) -> Organisation:
    if values.get("org_number"):
        values["org_number"] = _field_error("org_number", normalise_org_number, values["org_number"])
    if values.get("phone"):
        values["phone"] = _field_error("phone", normalise_phone, values["phone"])
    organisation = Organisation(**values)
    with transaction.atomic():
        _save(organisation)
        audit_record(actor=actor, action="organisation.create", target=organisation, fields=values)
    return organisation


def organisation_update(*, organisation: Organisation, actor: Actor, changes: dict[str, Any]) -> Organisation:
    if changes.get("org_number"):
        changes["org_number"] = _field_error("org_number", normalise_org_number, changes["org_number"])
    if changes.get("phone"):
        changes["phone"] = _field_error("phone", normalise_phone, changes["phone"])
    for name, value in changes.items():
        setattr(organisation, name, value)
    with transaction.atomic():
        _save(organisation, update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="organisation.update", target=organisation, fields=changes)
    return organisation


def _field_error(field: str, normalise: Any, value: str) -> str:
    try:
        return normalise(value)
    except ValidationError as error:
        raise ValidationError({field: [error]}) from None


def contact_create(*, actor: Actor, **values: Any) -> Contact:
    values = _normalise_contact_fields(values)
    values.setdefault(
        "email_kind",
        Contact.EmailKind.FUNCTIONAL if email_is_functional(values["email"]) else Contact.EmailKind.PERSONAL,
    )
    contact = Contact(**values)
    with transaction.atomic():
        _save(contact)
        audit_record(actor=actor, action="contact.create", target=contact, fields=values)
    return contact


def contact_update(*, contact: Contact, actor: Actor, changes: dict[str, Any]) -> Contact:
    changes = _normalise_contact_fields(dict(changes))
    for name, value in changes.items():
        setattr(contact, name, value)
    with transaction.atomic():
        _save(contact, update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="contact.update", target=contact, fields=changes)
    return contact


def interaction_record(
    *,
    contact: Contact,
    kind: str,
    occurred_at: datetime,
    summary: str = "",
    staff_member: AbstractBaseUser | None = None,
    actor: Actor,
) -> Interaction:
    """Record an interaction and keep the contact's ``last_interaction_at`` current.

    Retention is measured from the last interaction (policy: "en rimelig
    periode etter din siste samhandling"), so the two change together.
    """
    interaction = Interaction(
        contact=contact,
        kind=kind,
        occurred_at=occurred_at,
        summary=summary,
        staff_member=staff_member,
    )
    with transaction.atomic():
        _save(interaction)
        # Greatest() in the UPDATE: a late-recorded older interaction never
        # moves the date back, and two concurrent recorders cannot race.
        when = Value(occurred_at, output_field=models.DateTimeField())
        Contact.objects.filter(pk=contact.pk).update(
            last_interaction_at=Greatest(Coalesce("last_interaction_at", when), when)
        )
        contact.refresh_from_db(fields=["last_interaction_at"])
        audit_record(
            actor=actor,
            action="interaction.create",
            target=interaction,
            fields=["contact", "kind", "occurred_at", "summary", "staff_member"],
        )
    return interaction


def interaction_update(*, interaction: Interaction, actor: Actor, changes: dict[str, Any]) -> Interaction:
    for name, value in changes.items():
        setattr(interaction, name, value)
    with transaction.atomic():
        _save(interaction, update_fields=list(changes))
        contact_refresh_last_interaction(contact_ids=[interaction.contact_id])
        audit_record(actor=actor, action="interaction.update", target=interaction, fields=changes)
    return interaction


def contact_refresh_last_interaction(*, contact_ids: Iterable[int]) -> int:
    """Recompute ``last_interaction_at`` from the interactions themselves."""
    latest = (
        Interaction.objects.filter(contact=models.OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return Contact.objects.filter(pk__in=list(contact_ids)).update(
        last_interaction_at=models.Subquery(latest)
    )


def job_application_create(*, actor: Actor, **values: Any) -> JobApplication:
    values = _normalise_contact_fields(values)
    application = JobApplication(**values)
    with transaction.atomic():
        _save(application)
        audit_record(actor=actor, action="job_application.create", target=application, fields=values)
    return application


def job_application_update(
    *, application: JobApplication, actor: Actor, changes: dict[str, Any]
) -> JobApplication:
    changes = _normalise_contact_fields(dict(changes))
    for name, value in changes.items():
        setattr(application, name, value)
    with transaction.atomic():
        _save(application, update_fields=list(changes))
        audit_record(actor=actor, action="job_application.update", target=application, fields=changes)
    return application


def web_visit_record(*, actor: Actor, **values: Any) -> WebVisit:
    visit = WebVisit(**values)
    with transaction.atomic():
        _save(visit)
        audit_record(actor=actor, action="web_visit.create", target=visit, fields=values)
    return visit


@dataclass(frozen=True)
class ImportProblem:
    """One refused row. Names the row and the field, never the value (it may be personal data)."""

    row: int
    field: str
    message: str


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    organisations_created: int


IMPORT_COLUMNS = (
    "name",
    "email",
    "phone",
    "job_title",
    "organisation_number",
    "organisation_name",
    "language",
)


def contacts_import(
    *,
    rows: Iterable[Mapping[str, str]],
    source_type: str,
    source_name: str,
    source_attests_consent: bool,
    actor: Actor,
) -> ImportResult:
    """Import contacts from another system or a list, all or nothing.

    Every row is validated first; if any row is bad nothing is written and the
    ValidationError lists each problem by row number and field (Art. 5(1)(d):
    inaccurate data is not let in). Existing contacts (same email) get their
    empty fields filled, never overwritten, and keep their original provenance.
    """
    if source_type not in Contact.SourceType.values:
        raise ValidationError({"source_type": [_("Unknown source type.")]})
    prepared, problems = [], []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        values, row_problems = _import_row(number, row)
        if values and values["email"] in seen:
            row_problems.append(ImportProblem(number, "email", str(_("The same address appears twice."))))
        problems += row_problems
        if values:
            seen.add(values["email"])
            prepared.append(values)
    if problems:
        error = ValidationError([f"row {p.row}, {p.field}: {p.message}" for p in problems])
        # The same problems by row and field, for doors that answer in structure (the API's imports).
        error.import_problems = problems
        raise error

    created = updated = organisations_created = 0
    with transaction.atomic():
        organisations: dict[str, Organisation] = {}
        for values in prepared:
            org_key = values.pop("organisation_number") or values.get("organisation_name", "")
            org_name = values.pop("organisation_name")
            organisation = None
            if org_key:
                organisation = organisations.get(org_key)
                if organisation is None:
                    lookup = {"org_number": org_key} if org_key.isdigit() else {"name": org_name}
                    organisation = Organisation.objects.filter(**lookup).first()
                    if organisation is None:
                        organisation = organisation_create(
                            actor=actor,
                            name=org_name or org_key,
                            org_number=org_key if org_key.isdigit() else "",
                        )
                        organisations_created += 1
                    organisations[org_key] = organisation
            existing = Contact.objects.filter(email=values["email"]).first()
            if existing is None:
                contact_create(
                    actor=actor,
                    organisation=organisation,
                    source_type=source_type,
                    source_name=source_name,
                    source_attests_consent=source_attests_consent,
                    **values,
                )
                created += 1
                continue
            changes = {k: v for k, v in values.items() if v and not getattr(existing, k)}
            if organisation and existing.organisation_id is None:
                changes["organisation"] = organisation
            if changes:
                contact_update(contact=existing, actor=actor, changes=changes)
                updated += 1
    return ImportResult(created, updated, organisations_created)


def _import_row(number: int, row: Mapping[str, str]) -> tuple[dict[str, Any] | None, list[ImportProblem]]:
    problems: list[ImportProblem] = []
    values: dict[str, Any] = {k: (row.get(k) or "").strip() for k in IMPORT_COLUMNS}
    if not values["name"]:
        problems.append(ImportProblem(number, "name", str(_("A name is required."))))
    checks = (
        ("email", clean_email),
        ("phone", normalise_phone),
        ("organisation_number", lambda v: normalise_org_number(v) if v else ""),
    )
    for field, check in checks:
        try:
            values[field] = check(values[field])
        except ValidationError as error:
            problems.append(ImportProblem(number, field, " ".join(str(m) for m in error.messages)))
    if values["language"] not in ("", *Contact.Language.values):
        problems.append(ImportProblem(number, "language", str(_("The language must be nb or en."))))
    values["language"] = values["language"] or Contact.Language.NB
    return (None if problems else values), problems
