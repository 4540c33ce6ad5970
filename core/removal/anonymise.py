"""How a row is anonymised: set-based replacements for every field that could find the person again.

Recital 26: anonymous data is data that no longer relates to an identifiable
person. A row kept for statistics keeps what statistics need (its kind, the
month) and loses the rest: the declaration's own ``anonymise`` values first,
then a replacement derived from each field's type, and every timestamp of the
row cut to its month, because an exact time can single out (a meeting at
14:03 on a given day is one person).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, TruncMonth

from core.registry import PersonalData

ANONYMISED_EMAIL_DOMAIN = "anonymised.invalid"


class CannotAnonymise(ValueError):
    """A field that cannot be emptied (a required link); the message names ``label.field``."""


def _month(field: models.Field) -> Any:
    if isinstance(field, models.DateTimeField):
        return TruncMonth(F(field.name))
    return TruncMonth(F(field.name), output_field=models.DateField())


def anonymise_plan(
    declaration: PersonalData,
    *,
    keep: tuple[str, ...] | list[str] = (),
    coarsen_times: bool = True,
    only: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Set-based replacements for every personal field of ``declaration``, less ``keep``.

    Many-to-many fields are left out: their link rows go with the removal
    (the engine cuts them). ``only``: just these fields. ``coarsen_times``: every date and time of the row,
    personal or not, is cut to its month. Raises ``CannotAnonymise`` where no
    replacement is possible (a required link to another record).
    """
    plan: dict[str, Any] = {}
    model = declaration.model
    for name in declaration.personal_fields:
        if name in keep or (only is not None and name not in only):
            continue
        field = model._meta.get_field(name)
        if field.many_to_many:
            continue
        declared = declaration.anonymise.get(name, ...)
        if declared is not ... and not callable(declared):
            if declared is None and not field.null:
                raise CannotAnonymise(f"{declaration.label}.{name}")
            plan[name] = declared
        elif field.is_relation and not field.null:
            raise CannotAnonymise(f"{declaration.label}.{name}")
        elif field.is_relation or (field.null and not isinstance(field, models.DateField)):
            plan[name] = None
        elif isinstance(field, models.EmailField) or field.unique:
            if isinstance(field, models.EmailField) and field.blank and not field.unique:
                plan[name] = ""
                continue
            # Unique per row, never a real address (RFC 2606 reserves .invalid).
            placeholder = [Value("anonymised-"), Cast(F("pk"), CharField())]
            if isinstance(field, models.EmailField):
                placeholder.append(Value(f"@{ANONYMISED_EMAIL_DOMAIN}"))
            plan[name] = Concat(*placeholder, output_field=CharField())
        elif isinstance(field, models.DateField):
            plan[name] = _month(field)
        elif isinstance(field, models.BooleanField):
            plan[name] = False
        elif isinstance(field, models.FileField):
            plan[name] = ""
        elif isinstance(field, models.GenericIPAddressField):
            plan[name] = "0.0.0.0"  # noqa: S104  (a placeholder, never bound)
        elif isinstance(field, models.CharField | models.TextField):
            default = field.default if field.has_default() and not callable(field.default) else ""
            plan[name] = default
        elif isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
            plan[name] = 0
        else:
            raise CannotAnonymise(f"{declaration.label}.{name}")
    if coarsen_times:
        for field in model._meta.concrete_fields:
            if (
                isinstance(field, models.DateField)
                and field.name not in plan
                and field.name not in keep
                and not field.primary_key
            ):
                plan[field.name] = _month(field)
    return plan


def emptied_fields(declaration: PersonalData, plan: dict[str, Any]) -> tuple[str, ...]:
    """The names of the fields a plan empties or coarsens, in model order."""
    names = [f.name for f in declaration.model._meta.get_fields() if f.name in plan]
    many = [f.name for f in declaration.model._meta.many_to_many if f.name in declaration.personal_fields]
    return tuple(names + many)
