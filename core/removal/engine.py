"""The one removal engine: the only way personal data leaves the database.

Erasure (``rights``), the retention sweep (``retention``) and every removal in
the admin hand it *targets* (rows of one declared model, and what to do with
them) and get back one ``RemovalOutcome``. The engine:

1. keeps what must be kept, whoever asks: rows under a legal hold (Art.
   17(3)(e), contact, organisation and category holds, from the registry's hold
   sources), rows of people a registered guard names (an open request, a
   restriction or an objection: Art. 12, 18, 21; not applied when the person
   asked for the erasure themselves), rows a ``must_keep`` rule names
   (Art. 17(3)(b)), and any row that such a kept row refers to;
2. walks the models' relations, hidden ones, one-to-one and many-to-many links
   included, and follows each relation's rule and each related model's
   declaration: a child that goes is deleted or anonymised as its own
   declaration says, a record kept on purpose (a request, a legal hold) loses
   its link to the person and stays, a link row is cut;
3. works set-based: one statement per table and step, never one per row;
4. removes files from storage only once the transaction commits, removes the
   admin log's entries about the removed rows, and records the audit event.

``dry_run=True`` is the preview: the same walk, counting instead of writing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.deletion import get_candidate_relations_to_delete
from django.db.models.functions import Cast, Coalesce, Now

from core.audit import Actor
from core.audit_chain import chain_append
from core.models import AuditEvent
from core.registry import Erasure, PersonalData, registry

from .anonymise import CannotAnonymise, anonymise_plan, emptied_fields
from .outcome import RemovalOutcome
from .signals import rows_removing
from .sql import exists_each, id_filter, plain_plans
from .sql import pks as _pks
from .words import GUARDED_KEPT_BECAUSE, LEGAL_HOLD_KEPT_BECAUSE, REFERENCED_BY_KEPT

logger = logging.getLogger(__name__)

MAX_DEPTH = 6
# A target of up to this many rows is read once into an id set that every later statement
# compares with; a larger one (an admin's "select all") stays a subquery.
ID_SET_LIMIT = 1_000


class Door(StrEnum):
    """Who asks for the removal; guards spare a person except from their own erasure request."""

    REQUEST = "request"  # the person's erasure request (Art. 17), or its replay after a restore
    ADMIN = "admin"  # staff in the admin
    SWEEP = "sweep"  # the retention sweep (Art. 5(1)(e))


class Action(StrEnum):
    DECLARED = "declared"  # what the declaration's ``erasure`` says
    DELETE = "delete"
    ANONYMISE = "anonymise"


@dataclass
class Target:
    """Rows of one declared model to remove, and how."""

    declaration: PersonalData
    rows: QuerySet
    action: Action = Action.DECLARED
    # Fields kept when anonymising (a policy's ``keep_for_statistics``).
    keep_fields: tuple[str, ...] = ()


@dataclass
class _Context:
    door: Door
    dry_run: bool
    outcome: RemovalOutcome
    actor: Actor | None = None
    touched: dict[str, PersonalData] = field(default_factory=dict)
    # A dry run writes nothing, so a row that is a target of its own and also hangs off another
    # target would be counted twice; the cascade leaves such rows to their own target.
    targeted: dict[type[models.Model], list[QuerySet]] = field(default_factory=dict)
    # Read once per removal: holds and guards do not change while it runs (one transaction).
    _held: dict[str, Q | None] = field(default_factory=dict)
    _guards: dict[str, Any] | None = None
    _guard_lists: dict[str, list[str]] = field(default_factory=dict)
    _logged: set[int] | None = None
    # Which relations of a row set have rows, asked once per set (``present``); forgotten
    # on every write, since a write may empty a relation.
    _present: dict[int, tuple[QuerySet, frozenset[Any]]] = field(default_factory=dict)
    # Models this removal has written to so far.
    written: set[type[models.Model]] = field(default_factory=set)
    # What listeners of ``rows_removing`` asked to run once every row has gone.
    afterwards: list[Any] = field(default_factory=list)

    def not_targeted(self, rows: QuerySet) -> QuerySet:
        if not self.dry_run:
            return rows
        for target_rows in self.targeted.get(rows.model, []):
            rows = rows.exclude(pk__in=_pks(target_rows))
        return rows

    @property
    def guards_apply(self) -> bool:
        return self.door is not Door.REQUEST

    def held(self, declaration: PersonalData) -> Q | None:
        if declaration.label not in self._held:
            self._held[declaration.label] = registry.held_rows(declaration)
        return self._held[declaration.label]

    def guard_sources(self) -> dict[str, Any]:
        if self._guards is None:
            self._guards = {name: guard() for name, guard in registry.guards().items()}
        return self._guards

    def guard_list(self, name: str, emails: Any) -> list[str]:
        if name not in self._guard_lists:
            self._guard_lists[name] = sorted({e for e in emails if e})
        return self._guard_lists[name]

    def protected(
        self, declaration: PersonalData, rows: QuerySet, *, guards: bool | None = None
    ) -> list[tuple[Q, str]]:
        """Filters on ``rows`` of what must stay, each with the reason in words."""
        found: list[tuple[Q, str]] = []
        held = self.held(declaration)
        if held is not None:
            found.append((held, str(LEGAL_HOLD_KEPT_BECAUSE)))
        if self.guards_apply if guards is None else guards:
            for name, emails in self.guard_sources().items():
                subset = self._guarded(declaration, name, emails)
                if subset is not None:
                    reason = registry.guard_reason(name) or GUARDED_KEPT_BECAUSE
                    found.append((subset, str(reason)))
        if declaration.must_keep is not None:
            found.append((Q(pk__in=_pks(declaration.must_keep(rows))), str(declaration.kept_because)))
        return found

    def _guarded(self, declaration: PersonalData, name: str, emails: Any) -> Q | None:
        """The rows of the people a guard names; NOT IN over a small set, a NULL errs on keeping."""
        if declaration.subject_email_path is not None:
            return Q(**{f"{declaration.subject_email_path}__in": emails})
        if declaration.find_rows is not None:
            wanted = self.guard_list(name, emails)
            if not wanted:
                return None
            return Q(pk__in=declaration.find_rows(wanted).values("pk"))
        return None

    def logged(self, model: type[models.Model]) -> bool:
        """Whether the admin log has any entry about a row of ``model`` (one query per removal)."""
        if self._logged is None:
            self._logged = set(
                ContentType.objects.filter(Exists(LogEntry.objects.filter(content_type=OuterRef("pk"))))
                .order_by()
                .values_list("pk", flat=True)
            )
        if not self._logged:
            return False
        return ContentType.objects.get_for_model(model, for_concrete_model=False).pk in self._logged

    def present(self, rows: QuerySet, relations: list[Any]) -> list[Any]:
        """Those of ``relations`` (from ``rows``' model) under which some row of ``rows`` has children."""
        if not relations:
            return []
        memo = self._present.get(id(rows))
        if memo is None or memo[0] is not rows:
            every = _relations(rows.model)
            found = exists_each(_children(r, rows) for r in every)
            memo = (rows, frozenset(r for r, there in zip(every, found, strict=True) if there))
            self._present[id(rows)] = memo
        return [r for r in relations if r in memo[1]]

    def wrote(self, model: type[models.Model]) -> None:
        self._present.clear()
        self.written.add(model)

    def announce(self, model: type[models.Model], rows: QuerySet) -> None:
        """Tell ``rows_removing``'s listeners which rows go, while they can still be read."""
        for _receiver, after in rows_removing.send(sender=model, rows=rows, door=self.door, actor=self.actor):
            if callable(after):
                self.afterwards.append(after)


def _children(relation: Any, rows: QuerySet) -> QuerySet:
    child = relation.related_model
    ids = getattr(rows, "removal_ids", None)
    if ids is not None:
        # Straight to the foreign key, with the ids read once (``_id_rows``).
        return child._base_manager.filter(id_filter(child, relation.field.attname, ids, using=rows.db))
    return child._base_manager.filter(**{f"{relation.field.name}__in": _pks(rows)})


@functools.cache
def _relations(model: type[models.Model]) -> list[Any]:
    """The relations Django's own collector walks: hidden ones (related_name="+"), one-to-one
    and the automatic many-to-many link tables included."""
    return [r for r in get_candidate_relations_to_delete(model._meta) if r.related_model is not model]


def _personal(model: type[models.Model]) -> PersonalData | None:
    declaration = registry.get(model)
    return declaration if declaration is not None and declaration.holds_personal_data else None


def _can_anonymise(declaration: PersonalData, *, keep: Iterable[str] = ()) -> dict[str, Any] | None:
    try:
        return anonymise_plan(declaration, keep=tuple(keep))
    except CannotAnonymise:
        return None


def _count(rows: QuerySet) -> int:
    return rows.order_by().count()


def _id_rows(rows: QuerySet) -> tuple[QuerySet, int | None]:
    """``rows`` read once into an id set (one SELECT), with their number; a large set stays a query.

    Every later statement about these rows, and about what hangs off them,
    then compares with the ids instead of running the target's own query (a
    join on the address, a keyed hash) again.
    """
    model = rows.model
    ids = list(dict.fromkeys(rows.order_by().values_list("pk", flat=True)[: ID_SET_LIMIT + 1]))
    if len(ids) > ID_SET_LIMIT:
        return rows, None
    id_rows = model._base_manager.filter(id_filter(model, "pk", ids, using=rows.db))
    id_rows.removal_ids = ids  # type: ignore[attr-defined]  # for ``_children``; lost on any clone
    return id_rows, len(ids)


# --- Keeping what must be kept --------------------------------------------------------------


def _spare(
    rows: QuerySet, subsets: list[tuple[Q, str]], *, count: int | None = None
) -> tuple[QuerySet, list[tuple[QuerySet, str, int]]]:
    """``rows`` less the protected subsets, and each subset that holds rows, with its number.

    One statement counts every subset; each row counts once, under the first reason that keeps it.
    """
    if not subsets or count == 0:
        return rows, []
    aggregates: dict[str, Any] = {}
    earlier: Q | None = None
    for i, (q, _why) in enumerate(subsets):
        subset = rows.filter(q) if earlier is None else rows.filter(q).exclude(earlier)
        aggregates[f"n{i}"] = Count("pk", filter=Q(pk__in=_pks(subset)))
        earlier = q if earlier is None else earlier | q
    counts = rows.order_by().aggregate(**aggregates)
    kept: list[tuple[QuerySet, str, int]] = []
    for i, (q, why) in enumerate(subsets):
        if counts[f"n{i}"]:
            kept.append((rows.filter(q), why, counts[f"n{i}"]))
    for subset, _why, _n in kept:
        rows = rows.exclude(pk__in=_pks(subset))
    return rows, kept


def _narrow(
    model: type[models.Model], rows: QuerySet, ctx: _Context, *, depth: int = 0, record: bool = True
) -> QuerySet:
    """``rows`` less every row that a kept row refers to through a relation that would remove it.

    A held interaction keeps its contact (a cascade would take it along); a
    document kept as an accounting record keeps its application. Returns
    ``rows`` itself when nothing is kept.
    """
    if depth > MAX_DEPTH:
        return rows
    declaration = registry.get(model)
    relations = [
        r
        for r in _relations(model)
        if not r.related_model._meta.auto_created  # link rows: cut, never a reason to keep
        and r.on_delete not in (models.SET_NULL, models.DO_NOTHING)
    ]
    kept_parents = Q()
    any_kept = False
    for relation in ctx.present(rows, relations):
        child, fk = relation.related_model, relation.field
        rule = relation.on_delete
        children = _children(relation, rows)
        child_declaration = _personal(child)
        protected: list[QuerySet] = []
        if child_declaration is not None and child_declaration.erasure is Erasure.KEEP:
            # A record kept on purpose loses its link to the person; one that cannot keeps them.
            if not fk.null:
                protected.append(children)
        elif rule in (models.PROTECT, models.RESTRICT):
            protected.append(children)
        elif rule is models.CASCADE:
            going = children
            if child_declaration is not None:
                going, kept = _spare(children, ctx.protected(child_declaration, children))
                for subset, why, n in kept:
                    protected.append(subset)
                    if record and depth == 0:
                        ctx.outcome.line(child_declaration).kept[why] += n
            anonymised = (
                child_declaration is not None
                and child_declaration.erasure is Erasure.ANONYMISE
                and fk.null
                and _can_anonymise(child_declaration) is not None
            )
            if not anonymised:
                survivors = _narrow(child, going, ctx, depth=depth + 1, record=False)
                if survivors is not going:
                    protected.append(going.exclude(pk__in=_pks(survivors)))
        for subset in protected:
            kept_parents |= Q(pk__in=subset.order_by().values(fk.attname))
            any_kept = True
    if not any_kept:
        return rows
    if record and declaration is not None and declaration.holds_personal_data:
        n = _count(rows.filter(kept_parents))
        if n:
            ctx.outcome.line(declaration).kept[str(REFERENCED_BY_KEPT)] += n
    return rows.exclude(kept_parents)


# --- Writing --------------------------------------------------------------------------------


def _collect_files(
    model: type[models.Model], rows: QuerySet, ctx: _Context, *, only: Iterable[str] | None = None
) -> None:
    for f in model._meta.concrete_fields:
        if isinstance(f, models.FileField) and (only is None or f.name in only):
            names = (
                rows.exclude(**{f.name: ""})
                .exclude(**{f"{f.name}__isnull": True})
                .values_list(f.name, flat=True)
            )
            ctx.outcome.files.extend((f.storage, name) for name in names if name)


def _forget_admin_log(model: type[models.Model], rows: QuerySet, ctx: _Context) -> None:
    """The admin log names each row it logged (``object_repr``: a person's name): it goes with the row."""
    if ctx.dry_run or not ctx.logged(model):
        return
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    entries = LogEntry.objects.filter(
        content_type=content_type,
        object_id__in=rows.order_by().annotate(_pk_text=Cast("pk", CharField())).values("_pk_text"),
    )
    count = entries._raw_delete(entries.db)
    if count:
        ctx.outcome.other[LogEntry._meta.label_lower] += count


def _update(rows: QuerySet, values: dict[str, Any], ctx: _Context) -> int:
    if ctx.dry_run:
        return _count(rows)
    ctx.announce(rows.model, rows)
    ctx.wrote(rows.model)
    if _one_table(rows):
        # ``UPDATE ... WHERE <the rows' own filter>``: no second pass over the rows' ids.
        return rows.order_by().update(**values)
    return rows.model._base_manager.filter(pk__in=_pks(rows)).update(**values)


def _one_table(rows: QuerySet) -> bool:
    """Whether ``rows`` is a filter on its own table alone (subqueries allowed, no join, no slice)."""
    query = rows.query
    joined = sum(1 for alias in query.alias_map if query.alias_refcount.get(alias))
    return joined <= 1 and not query.is_sliced and not query.distinct and not query.combinator


def _delete_rows(model: type[models.Model], rows: QuerySet, ctx: _Context) -> int:
    if ctx.dry_run:
        return _count(rows)
    ctx.announce(model, rows)
    ctx.wrote(model)
    # One DELETE ... WHERE id IN (the rows' query): the engine has walked the relations
    # already, so Django's collector (a SELECT of every row first) has nothing to add.
    queryset = model._default_manager.filter(pk__in=_pks(rows))
    if hasattr(queryset, "erasable"):
        # A model that guards its own deletion (the consent ledger) lets the
        # registry's removal through its ``erasable()`` queryset, and only that.
        _total, per_model = queryset.erasable().delete()
        return per_model.get(model._meta.label, 0)
    return queryset._raw_delete(queryset.db)


def _anonymise_rows(
    declaration: PersonalData,
    rows: QuerySet,
    plan: dict[str, Any],
    ctx: _Context,
    *,
    stamp: dict[str, Any] | None = None,
) -> int:
    """Empty ``plan``'s fields of ``rows``; ``stamp``: bookkeeping written alongside (when the
    details went), not an emptied field, so the answer does not name it."""
    file_fields = [
        name
        for name, value in plan.items()
        if value == "" and isinstance(declaration.model._meta.get_field(name), models.FileField)
    ]
    if file_fields:
        _collect_files(declaration.model, rows, ctx, only=file_fields)
    _forget_admin_log(declaration.model, rows, ctx)
    count = _update(rows, {**plan, **(stamp or {})}, ctx)
    if count:
        line = ctx.outcome.line(declaration)
        line.anonymised += count
        line.emptied = tuple(dict.fromkeys(line.emptied + emptied_fields(declaration, plan)))
        ctx.touched[declaration.label] = declaration
    return count


def _cut_many_to_many(relation: Any, links: QuerySet, ctx: _Context) -> None:
    """Link rows of a many-to-many field go; a record kept on purpose at the other end (a request
    naming the person's contact record) loses what would find the person again (Art. 5(1)(c)):
    the request keeps the fact that we answered, not who asked."""
    through = relation.related_model
    owner_fk = next(
        (f for f in through._meta.concrete_fields if f.is_relation and f is not relation.field), None
    )
    owner_declaration = _personal(owner_fk.related_model) if owner_fk is not None else None
    if owner_declaration is not None:
        m2m = next(
            (f for f in owner_declaration.model._meta.many_to_many if f.remote_field.through is through), None
        )
        if m2m is not None and m2m.name in owner_declaration.personal_fields:
            owners = owner_declaration.model._base_manager.filter(
                pk__in=links.order_by().values(owner_fk.attname)
            )
            if owner_declaration.erasure is Erasure.KEEP:
                _keep_without_details(owner_declaration, owners, ctx, count_kept=False)
    count = _delete_rows(through, links, ctx)
    if not count:
        return
    if owner_declaration is not None:
        ctx.outcome.line(owner_declaration).links_cut += count
    else:
        ctx.outcome.other[through._meta.label_lower] += count


def _remove_children(
    model: type[models.Model], rows: QuerySet, ctx: _Context, *, parent_stays: bool, depth: int
) -> None:
    """Everything that hangs off ``rows``, by each relation's rule and each child's declaration."""
    if depth > MAX_DEPTH:
        raise RuntimeError(f"removal: relations deeper than {MAX_DEPTH} below {model._meta.label}")
    for relation in ctx.present(rows, _relations(model)):
        child, fk = relation.related_model, relation.field
        children = ctx.not_targeted(_children(relation, rows))
        if child._meta.auto_created:
            _cut_many_to_many(relation, children, ctx)
            continue
        rule = relation.on_delete
        declaration = _personal(child)
        if parent_stays:
            # The row stays, anonymised: what hangs off it follows its own declaration,
            # keeping its link so that counts per month and kind survive.
            if declaration is None or rule is not models.CASCADE or declaration.erasure is Erasure.KEEP:
                continue
            children, kept = _spare(children, ctx.protected(declaration, children))
            for _subset, why, n in kept:
                ctx.outcome.line(declaration).kept[why] += n
            plan = (
                _can_anonymise(declaration, keep=(fk.name,))
                if declaration.erasure is Erasure.ANONYMISE
                else None
            )
            if plan is not None:
                _anonymise_rows(declaration, children, plan, ctx)
            else:
                _delete_tree(child, children, ctx, depth=depth + 1)
            continue
        if rule is models.DO_NOTHING:
            continue
        if rule is models.SET_NULL or (
            declaration is not None and declaration.erasure is Erasure.KEEP and fk.null
        ):
            # The link is cut, the row stays: a record kept on purpose (a legal hold, lifted
            # or ended, is lifted, never deleted) or a row that merely pointed at the person.
            n = _update(children, {fk.name: None}, ctx)
            if n and declaration is not None:
                ctx.outcome.line(declaration).links_cut += n
            elif n:
                ctx.outcome.other[child._meta.label_lower] += n
            continue
        if rule in (models.PROTECT, models.RESTRICT):
            continue  # _narrow kept the parents
        if rule is not models.CASCADE:
            n = _update(children, {fk.name: fk.get_default()}, ctx)
            if n:
                ctx.outcome.other[child._meta.label_lower] += n
            continue
        if declaration is not None and declaration.erasure is Erasure.ANONYMISE and fk.null:
            plan = _can_anonymise(declaration)
            if plan is not None:
                plan[fk.name] = None
                _anonymise_rows(declaration, children, plan, ctx)
                continue
        _delete_tree(child, children, ctx, depth=depth + 1)


def _delete_tree(model: type[models.Model], rows: QuerySet, ctx: _Context, *, depth: int = 0) -> int:
    """Delete ``rows`` and what goes with them: children first, then the rows, one statement each."""
    _remove_children(model, rows, ctx, parent_stays=False, depth=depth)
    _collect_files(model, rows, ctx)
    _forget_admin_log(model, rows, ctx)
    count = _delete_rows(model, rows, ctx)
    declaration = _personal(model)
    if declaration is not None:
        if count:
            ctx.outcome.line(declaration).deleted += count
            ctx.touched[declaration.label] = declaration
    elif count:
        ctx.outcome.other[model._meta.label_lower] += count
    return count


# --- The door every removal goes through ----------------------------------------------------


def _redaction_plan(declaration: PersonalData) -> dict[str, Any]:
    """For a record kept on purpose: the details its declaration says go (``anonymise``), and only those."""
    if not declaration.anonymise:
        return {}
    return anonymise_plan(declaration, coarsen_times=False, only=tuple(declaration.anonymise))


def _keep_without_details(
    declaration: PersonalData,
    rows: QuerySet,
    ctx: _Context,
    *,
    count_kept: bool = True,
    count: int | None = None,
) -> None:
    """A record kept on purpose (proof that we answered a request) stays; the details about the
    person that its declaration names go, except where they are still needed (``details_needed``:
    an open request must be answered at its address; its redaction follows the answer) or held."""
    plan = _redaction_plan(declaration)
    if plan:
        going = rows.exclude(declaration.details_needed) if declaration.details_needed is not None else rows
        held = ctx.held(declaration)
        if held is not None:
            going = going.exclude(held)
        # Already without details: nothing to do, nothing to count.
        static = {k: v for k, v in plan.items() if not hasattr(v, "resolve_expression")}
        if static:
            going = going.exclude(**static)
        # The record says when its details went (the first time), as one redacted on its own does.
        marker = declaration.details_removed_field
        stamp = {marker: Coalesce(F(marker), Now())} if marker else None
        _anonymise_rows(declaration, going, plan, ctx, stamp=stamp)
    if not count_kept:
        return
    n = _count(rows) if count is None else count
    if n and declaration.holds_personal_data:
        ctx.outcome.line(declaration).kept[str(declaration.kept_because)] += n


def _spare_owners_of_held_rows(declaration: PersonalData, rows: QuerySet, ctx: _Context) -> QuerySet:
    """``rows`` less those a held row belongs to (a category hold on interactions, say).

    Anonymising the owner would leave the held rows unattributable, which defeats
    the hold as surely as deleting them (Art. 17(3)(e)): the owner stays as it is,
    as it does when the policy deletes (``_narrow``).
    """
    owned: list[tuple[Q, str]] = []
    for relation in _relations(declaration.model):
        child, fk = relation.related_model, relation.field
        child_declaration = _personal(child)
        if child._meta.auto_created or child_declaration is None:
            continue
        held = ctx.held(child_declaration)
        if held is None:
            continue
        owners = child._base_manager.filter(held, **{f"{fk.name}__in": _pks(rows)})
        owned.append((Q(pk__in=owners.order_by().values(fk.attname)), str(REFERENCED_BY_KEPT)))
    rows, kept = _spare(rows, owned)
    for _subset, why, n in kept:
        ctx.outcome.line(declaration).kept[why] += n
    return rows


def _run_target(target: Target, rows: QuerySet, count: int | None, ctx: _Context) -> None:
    declaration = target.declaration
    if count is not None and rows.model in ctx.written:
        rows, count = _id_rows(rows)  # some may have gone with an earlier target's rows
    if count == 0:
        return
    if target.action is Action.DECLARED and declaration.erasure is Erasure.KEEP:
        _keep_without_details(declaration, rows, ctx, count=count)
        return
    rows, kept = _spare(rows, ctx.protected(declaration, rows), count=count)
    for _subset, why, n in kept:
        if declaration.holds_personal_data:
            ctx.outcome.line(declaration).kept[why] += n
    anonymise = target.action is Action.ANONYMISE or (
        target.action is Action.DECLARED and declaration.erasure is Erasure.ANONYMISE
    )
    plan = _can_anonymise(declaration, keep=target.keep_fields) if anonymise else None
    if anonymise and plan is None:
        if target.action is Action.ANONYMISE:
            raise CannotAnonymise(declaration.label)
        logger.info("removal: %s cannot be anonymised, deleting instead", declaration.label)
    if plan is not None:
        rows = _spare_owners_of_held_rows(declaration, rows, ctx)
        _remove_children(declaration.model, rows, ctx, parent_stays=True, depth=0)
        _anonymise_rows(declaration, rows, plan, ctx)
        return
    rows = _narrow(declaration.model, rows, ctx)
    _delete_tree(declaration.model, rows, ctx)


def _is_anonymised(target: Target) -> bool:
    return target.action is Action.ANONYMISE or (
        target.action is Action.DECLARED and target.declaration.erasure is Erasure.ANONYMISE
    )


def removal_execute(
    *,
    targets: Iterable[Target],
    door: Door,
    actor: Actor,
    reference: str = "",
    audit_action: str = "removal.remove",
    dry_run: bool = False,
) -> RemovalOutcome:
    """Remove the targets' rows, in one transaction; ``dry_run``: count what would happen, write nothing.

    Anonymised targets go first (they stay, and would otherwise go with a
    deleted row they point at), then deleted ones. Records one audit event per
    declared model touched (field names only), and removes stored files once
    the transaction commits.

    Set-based throughout: one statement asks which targets hold rows at all,
    each that does is read once into an id set, and from there every table
    gets one statement per step, whatever the number of rows.
    """
    targets = sorted(targets, key=lambda t: (not _is_anonymised(t), t.declaration.label))
    outcome = RemovalOutcome(dry_run=dry_run)
    ctx = _Context(door=door, dry_run=dry_run, outcome=outcome, actor=actor)
    if dry_run:
        for target in targets:
            ctx.targeted.setdefault(target.declaration.model, []).append(target.rows)
    # The caller's transaction, or one of its own; no savepoint of its own: a failure
    # fails the caller's block as a whole, which is what one transaction means here.
    with transaction.atomic(savepoint=False):
        plain_plans()
        # Rows only go, never come, during a removal: a target empty now stays empty.
        found = exists_each(t.rows for t in targets)
        present = [t for t, there in zip(targets, found, strict=True) if there]
        outcome.found = sorted({t.declaration.label for t in present})
        # Each target's rows are read now, before anything goes: a target found through
        # another (the emails of a request, through the request's address) keeps its rows
        # when that other is emptied first (Art. 17: every copy of the person goes).
        snapshots = [(t, *_id_rows(t.rows)) for t in present]
        for target, rows, count in snapshots:
            _run_target(target, rows, count, ctx)
        if dry_run:
            outcome.files = []
            return outcome
        for after in ctx.afterwards:
            after()
        _audit(ctx, actor=actor, action=audit_action, reference=reference)
        files = list(outcome.files)
        if files:
            transaction.on_commit(lambda: _delete_files(files))
    return outcome


def _audit(ctx: _Context, *, actor: Actor, action: str, reference: str) -> None:
    """One audit event per declared model touched (field names, never values), appended at once.

    The same event ``core.audit.audit_record`` writes, for many models in one
    append to the chain (one lock and one INSERT instead of three statements each).
    """
    events = [
        AuditEvent(
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_role=actor.role,
            action=action,
            target_type=label,
            target_id=reference,
            changed_fields=sorted(set(ctx.touched[label].personal_fields)),
            ip_address=actor.ip_address,
        )
        for label in sorted(ctx.touched)
    ]
    if events:
        chain_append(events)


def removal_preview(*, targets: Iterable[Target], door: Door) -> RemovalOutcome:
    """What ``removal_execute`` would do, without writing anything."""
    return removal_execute(targets=targets, door=door, actor=Actor.system("preview"), dry_run=True)


def _delete_files(files: list[tuple[Any, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            # Never the name in the log: it may carry an id the person can be found by.
            logger.warning("removal: could not delete a stored file; remove it by hand")


def subject_targets(addresses: Iterable[str]) -> list[Target]:
    """A person's rows in every declared model that can find them by address."""
    addresses = sorted(set(addresses))
    return [
        Target(declaration, declaration.rows_for(addresses))
        for declaration in registry.personal()
        if declaration.findable
    ]


def rows_target(instances_or_rows: QuerySet) -> Target:
    """A target for rows of one model (the admin's selection): its declaration decides what happens."""
    model = instances_or_rows.model
    declaration = registry.get(model)
    if declaration is None:
        raise LookupError(f"{model._meta.label} is not in the registry of personal data")
    return Target(declaration, instances_or_rows)
