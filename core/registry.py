"""The registry of personal data.

Each app declares, in its ``personal_data.py``, every model it has and which of
its fields hold personal data, and for those: the data category, purposes,
source, recipients, the event retention is measured from, and how to find,
export, rectify, erase and anonymise one person's rows. This one registry then
drives the contact page, the access report (Art. 15), erasure (Art. 17),
retention sweeps (Art. 5(1)(e)) and the records of processing (Art. 30).

A system check (core.checks) fails while any field of any project model is
neither declared personal nor marked as not personal, so a new field cannot be
forgotten by any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from .validators import normalise_email


class Erasure(StrEnum):
    """What erasure of a subject does to a row of this model."""

    DELETE = "delete"
    ANONYMISE = "anonymise"  # keep the row for statistics, without the person
    # Kept on purpose (a suppression entry, a record the law requires);
    # ``PersonalData.kept_because`` says why, and the answer to the person names it.
    KEEP = "keep"


class AlreadyRegistered(Exception):
    pass


@dataclass(frozen=True)
class PersonalData:
    """The declaration of one model.

    ``subject_email_path`` is the ORM path from a row to the email address of
    the person it is about (``"email"``, ``"contact__email"``); None when rows
    cannot be tied to a person by email (then only retention reaches them).
    ``anonymise`` maps each personal field to its replacement (a value, or a
    callable taking the row's pk) for ``Erasure.ANONYMISE``.
    """

    model: type[models.Model]
    category: str
    description: str
    personal_fields: tuple[str, ...]
    not_personal_fields: tuple[str, ...] = ()
    subject_email_path: str | None = None
    purposes: tuple[str, ...] = ()
    source: str = ""
    recipients: tuple[str, ...] = ()
    retention_anchor: str | None = None
    retention_note: str = ""
    erasure: Erasure = Erasure.DELETE
    anonymise: Mapping[str, Any] = field(default_factory=dict)
    rectifiable_fields: tuple[str, ...] = ()
    # Fields the person gave us themselves (Art. 20 portability).
    provided_by_subject: tuple[str, ...] = ()
    export_fields: tuple[str, ...] = ()
    kept_because: str = ""
    # For rows found otherwise than by an email path (a keyed hash, say):
    # takes normalised addresses, returns the queryset of their rows.
    find_rows: Callable[[list[str]], QuerySet] | None = None
    # Rows the law requires us to keep for now, whatever the ``erasure`` rule
    # (Art. 17(3)(b)): takes the person's rows, returns the subset to keep.
    # Erasure keeps them and names ``kept_because`` in the answer; see
    # ``accounting_records`` for bokføringsloven § 13.
    must_keep: Callable[[QuerySet], QuerySet] | None = None
    # For ``Erasure.KEEP`` with ``anonymise``: the rows whose details are still needed
    # (an open request must be answered at its address); the removal engine empties
    # the others' details and leaves these until their own redaction.
    details_needed: Q | None = None
    # For ``Erasure.KEEP`` with ``anonymise``: a date field the engine stamps when it
    # empties a row's details, so the record says when (a request's ``redacted_at``).
    details_removed_field: str = ""

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def holds_personal_data(self) -> bool:
        return bool(self.personal_fields)

    def fields_to_export(self) -> tuple[str, ...]:
        return ("pk", *(self.export_fields or self.personal_fields))

    def subject_filter(self, emails: Iterable[str]) -> Q:
        if self.subject_email_path is None:
            return Q(pk__in=[])
        normalised = sorted({normalise_email(e) for e in emails})
        first, _, rest = self.subject_email_path.partition("__")
        field = self.model._meta.get_field(first) if rest else None
        if field is not None and field.concrete and (field.many_to_one or field.one_to_one):
            # Through a foreign key: ``contact_id IN (SELECT id FROM contact WHERE email IN ...)``,
            # not a join. The rows are then found, and updated or deleted, straight through the
            # foreign key's index: a join made every later statement select the rows' own ids
            # again (an erasure's UPDATE of 10,000 interactions spent most of its time there).
            owners = field.related_model._base_manager.filter(**{f"{rest}__in": normalised})
            return Q(**{f"{first}__in": owners.values("pk")})
        return Q(**{f"{self.subject_email_path}__in": normalised})

    @property
    def findable(self) -> bool:
        return self.subject_email_path is not None or self.find_rows is not None

    def rows_for(self, emails: Iterable[str]) -> QuerySet:
        if self.find_rows is not None:
            return self.find_rows(sorted({normalise_email(e) for e in emails}))
        return self.model._default_manager.filter(self.subject_filter(emails))

    def export(self, emails: Iterable[str]) -> list[dict[str, Any]]:
        """One query: the person's rows as plain values."""
        return list(self.rows_for(emails).order_by("pk").values(*self.fields_to_export()))

    def erase_queryset(self, queryset: QuerySet) -> int:
        """Erase these rows through the removal engine (core.removal), the only way rows go.

        Returns the rows deleted or anonymised. Imported here, not at the top:
        the engine reads this registry, so the registry cannot import it first.
        """
        from core.audit import Actor
        from core.removal import Door, Target, removal_execute

        outcome = removal_execute(
            targets=[Target(self, queryset)], door=Door.REQUEST, actor=Actor.system("registry")
        )
        line = outcome.models.get(self.label)
        return (line.deleted + line.anonymised) if line else 0


def accounting_records(date_path: str, *, years: int = 5) -> Callable[[QuerySet], QuerySet]:
    """A ``must_keep`` rule for accounting records (bokføringsloven § 13).

    Primary documentation is kept for five years after the end of the
    financial year it belongs to (the calendar year of ``date_path``), so a row
    dated in year Y is kept until 31 December of Y + ``years``. Declare it
    with a ``kept_because`` that names the law (rights.rules has the text).
    """

    def rows_to_keep(queryset: QuerySet) -> QuerySet:
        first_kept_year = timezone.localdate().year - years
        return queryset.filter(**{f"{date_path}__year__gte": first_kept_year})

    return rows_to_keep


# A guard names people whose data must not be swept by retention right now
# (an open data-subject request, for instance): a callable returning a
# ``values_list`` queryset (or a list) of normalised email addresses.
Guard = Callable[[], QuerySet | list[str]]

# A hold source names, for one declaration, its rows under a legal hold now
# (Art. 17(3)(e)): a filter on the declaration's model (``ALL_ROWS`` for all of
# them, a category hold), or None when it holds none. The removal engine asks every
# source before anything goes, whoever asks for the removal.
HoldSource = Callable[["PersonalData"], Q | None]
# Every row: not ``Q()``, which an OR with another filter silently drops.
ALL_ROWS = Q(pk__isnull=False)

# A processing block names, among the given normalised addresses, the people
# whose data is kept but must not be used now (a restriction under Art. 18):
# consent checks ask it before they clear anyone.
ProcessingBlock = Callable[[list[str]], Iterable[str]]


class PersonalDataRegistry:
    def __init__(self) -> None:
        self._by_model: dict[type[models.Model], PersonalData] = {}
        self._guards: dict[str, Guard] = {}
        self._guard_reasons: dict[str, Any] = {}
        self._blocks: dict[str, ProcessingBlock] = {}
        self._holds: dict[str, HoldSource] = {}

    def register_guard(self, name: str, guard: Guard, *, reason: Any = "") -> None:
        """Register a source of people retention must leave alone (see ``Guard``).

        ``reason``: why, in words a person reads (gettext_lazy); the removal
        engine names it for every row the guard spares.
        """
        self._guards[name] = guard
        self._guard_reasons[name] = reason

    def guards(self) -> dict[str, Guard]:
        return dict(self._guards)

    def guard_reason(self, name: str) -> Any:
        return self._guard_reasons.get(name, "")

    def register_hold_source(self, name: str, source: HoldSource) -> None:
        """Register a source of legal holds (see ``HoldSource``)."""
        self._holds[name] = source

    def held_rows(self, declaration: PersonalData) -> Q | None:
        """The filter of ``declaration``'s rows that some legal hold keeps now; None: none is held."""
        found: Q | None = None
        for source in self._holds.values():
            q = source(declaration)
            if q is not None:
                found = q if found is None else found | q
        return found

    def register_processing_block(self, name: str, block: ProcessingBlock) -> None:
        """Register a source of people whose data must not be used now (see ``ProcessingBlock``)."""
        self._blocks[name] = block

    def processing_blocked(self, emails: Iterable[str]) -> set[str]:
        """Which of these addresses (normalised) are blocked from use by any registered block."""
        wanted = sorted({normalise_email(e) for e in emails})
        if not wanted or not self._blocks:
            return set()
        return {normalise_email(e) for block in self._blocks.values() for e in block(wanted)}

    def register(self, declaration: PersonalData) -> PersonalData:
        if declaration.model in self._by_model:
            raise AlreadyRegistered(declaration.label)
        self._by_model[declaration.model] = declaration
        return declaration

    def register_not_personal(self, model: type[models.Model], *, reason: str) -> PersonalData:
        """A model that holds no personal data at all; ``reason`` says why."""
        names = tuple(f.name for f in _declarable_fields(model))
        return self.register(
            PersonalData(
                model=model,
                category="",
                description=reason,
                personal_fields=(),
                not_personal_fields=names,
            )
        )

    def unregister(self, model: type[models.Model]) -> None:
        self._by_model.pop(model, None)

    def get(self, model: type[models.Model]) -> PersonalData | None:
        return self._by_model.get(model)

    def declarations(self) -> list[PersonalData]:
        return sorted(self._by_model.values(), key=lambda d: d.label)

    def personal(self) -> list[PersonalData]:
        return [d for d in self.declarations() if d.holds_personal_data]

    def by_category(self, category: str) -> list[PersonalData]:
        return [d for d in self.personal() if d.category == category]

    def categories(self) -> list[str]:
        return sorted({d.category for d in self.personal()})


registry = PersonalDataRegistry()


def _declarable_fields(model: type[models.Model]) -> list[models.Field]:
    """Concrete and many-to-many fields, less the automatic primary key."""
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not (f.primary_key and f.auto_created)]
    fields += [f for f in opts.local_many_to_many]
    return [f for f in fields if not isinstance(f, models.AutoField)]


def undeclared_fields(model: type[models.Model]) -> list[str]:
    """Fields of ``model`` that its declaration neither calls personal nor not personal."""
    declaration = registry.get(model)
    declared: set[str] = set()
    if declaration is not None:
        declared = set(declaration.personal_fields) | set(declaration.not_personal_fields)
    return [f.name for f in _declarable_fields(model) if f.name not in declared]


@dataclass(frozen=True)
class SubjectSection:
    """What one registered model holds about one person."""

    declaration: PersonalData
    rows: list[dict[str, Any]]


def subject_data(email: str, *, only: Callable[[PersonalData], bool] | None = None) -> list[SubjectSection]:
    """Everything held about an email address, one query per registered model.

    The number of queries depends on the number of registered models, never on
    the number of rows the person has.
    """
    sections = []
    for declaration in registry.personal():
        if not declaration.findable or (only and not only(declaration)):
            continue
        rows = declaration.export([email])
        if rows:
            sections.append(SubjectSection(declaration, rows))
    return sections
