"""Rectification (Art. 16): only what a declaration lets be corrected, every row validated first."""

from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from core.audit import Actor, audit_record
from core.events import subject_rectified
from core.registry import PersonalData, registry
from core.validators import clean_email, normalise_phone

from .common import _addresses

# --- Rectification (Art. 16) ------------------------------------------------------------------

_NORMALISERS = {"email": clean_email, "phone": normalise_phone}


def subject_rectify(
    *,
    emails: list[str],
    changes: dict[str, dict[str, object]],
    actor: Actor,
    reference: str,
    request_id: int | None = None,
) -> dict[str, int]:
    """Correct the person's rows: ``changes`` maps a model label to {field: new value}.

    Only fields the model's declaration lists in ``rectifiable_fields``. Every
    row is validated before any is written, so a bad value writes nothing.
    Returns the number of rows corrected per model. Recipients to tell of the
    correction (Art. 19): ``rights.selectors.recipients_for``; they are also told
    through ``core.events.subject_rectified`` (by the address they knew, field
    names only), so a subscribed recipient hears of it by webhook.
    """
    from rights.selectors import recipients_for

    addresses = _addresses(emails)
    known_as: dict[int, str] = {}  # contact id -> the address recipients knew before the correction
    declarations = {d.label: d for d in registry.personal()}
    errors: dict[str, list[ValidationError]] = {}
    planned: list[tuple[PersonalData, models.Model, dict[str, object]]] = []
    for label, values in changes.items():
        declaration = declarations.get(label)
        if declaration is None or not declaration.findable:
            raise ValidationError(_("There is no register called “%(label)s”."), params={"label": label})
        if not values:
            continue
        not_allowed = sorted(set(values) - set(declaration.rectifiable_fields))
        if not_allowed:
            raise ValidationError(
                _("These fields of %(model)s cannot be corrected this way: %(fields)s."),
                params={
                    "model": declaration.model._meta.verbose_name_plural,
                    "fields": ", ".join(not_allowed),
                },
            )
        cleaned: dict[str, object] = {}
        for name, value in values.items():
            normalise = _NORMALISERS.get(name)
            try:
                cleaned[name] = normalise(value) if normalise and isinstance(value, str) else value
            except ValidationError as error:
                errors.setdefault(f"{label}.{name}", []).append(error)
        for row in declaration.rows_for(addresses).order_by("pk"):
            if declaration.label == "subjects.contact":
                known_as[row.pk] = row.email
            for name, value in cleaned.items():
                setattr(row, name, value)
            try:
                row.full_clean()
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    errors.setdefault(f"{label}.{name}", []).extend(ValidationError(m) for m in messages)
            planned.append((declaration, row, cleaned))
    if errors:
        raise ValidationError(errors)

    corrected: dict[str, int] = defaultdict(int)
    recipients = recipients_for(emails=addresses) if planned else []
    fields = sorted({name for _declaration, _row, cleaned in planned for name in cleaned})
    with transaction.atomic():
        for declaration, row, cleaned in planned:
            update_fields = list(cleaned)
            update_fields += [
                f.name
                for f in row._meta.concrete_fields
                if getattr(f, "auto_now", False) and f.name not in cleaned
            ]
            row.save(update_fields=update_fields)
            audit_record(actor=actor, action="rights.rectify", target=row, fields=cleaned)
            corrected[declaration.label] += 1
        # Art. 19: every recipient of the person's data hears of the correction.
        told = [(email, pk) for pk, email in sorted(known_as.items())]
        if planned and not told:
            told = [(email, None) for email in addresses]
        for email, contact_id in told:
            subject_rectified.send(
                sender=subject_rectify, email=email, contact_id=contact_id, fields=fields,
                recipients=recipients, request_id=request_id,
            )  # fmt: skip
    return dict(corrected)
