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

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import CharField, QuerySet
from django.db.models.deletion import get_candidate_relations_to_delete
from django.db.models.functions import Cast

from core.audit import Actor, audit_record
from core.registry import Erasure, PersonalData, registry

from .anonymise import CannotAnonymise, anonymise_plan, emptied_fields
from .outcome import RemovalOutcome
from .words import GUARDED_KEPT_BECAUSE, LEGAL_HOLD_KEPT_BECAUSE, REFERENCED_BY_KEPT

logger = logging.getLogger(__name__)

MAX_DEPTH = 6


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
    touched: dict[str, PersonalData] = field(default_factory=dict)
    # A dry run writes nothing, so a row that is a target of its own and also hangs off another
    # target would be counted twice; the cascade leaves such rows to their own target.
    targeted: dict[type[models.Model], list[QuerySet]] = field(default_factory=dict)

    def not_targeted(self, rows: QuerySet) -> QuerySet:
        if not self.dry_run:
            return rows
        for target_rows in self.targeted.get(rows.model, []):
            rows = rows.exclude(pk__in=_pks(target_rows))
        return rows

    @property
    def guards_apply(self) -> bool:
        return self.door is not Door.REQUEST

    def protected(
        self, declaration: PersonalData, rows: QuerySet, *, guards: bool | None = None
    ) -> list[tuple[QuerySet, str]]:
        """Subsets of ``rows`` that must stay, each with the reason in words."""
        found: list[tuple[QuerySet, str]] = []
        held = registry.held_rows(declaration)
        if held is not None:
            found.append((rows.filter(held), str(LEGAL_HOLD_KEPT_BECAUSE)))
        if self.guards_apply if guards is None else guards:
            for name, guard in registry.guards().items():
                subset = _guarded(declaration, rows, guard())
                if subset is not None:
                    reason = registry.guard_reason(name) or GUARDED_KEPT_BECAUSE
                    found.append((subset, str(reason)))
        if declaration.must_keep is not None:
            found.append((declaration.must_keep(rows), str(declaration.kept_because)))
        return found


def _guarded(declaration: PersonalData, rows: QuerySet, emails: QuerySet) -> QuerySet | None:
    """The rows of the people a guard names; NOT IN over a small set, a NULL errs on keeping."""
    if declaration.subject_email_path is not None:
        return rows.filter(**{f"{declaration.subject_email_path}__in": emails})
    if declaration.find_rows is not None:
        wanted = sorted({e for e in emails if e})
        if not wanted:
            return None
        return rows.filter(pk__in=declaration.find_rows(wanted).values("pk"))
    return None


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


def _pks(rows: QuerySet) -> QuerySet:
    return rows.order_by().values("pk")


def _count(rows: QuerySet) -> int:
    return rows.order_by().count()


# --- Keeping what must be kept --------------------------------------------------------------


def _union(subsets: list[QuerySet]) -> QuerySet | None:
    if not subsets:
        return None
    model = subsets[0].model
    q = models.Q(pk__in=_pks(subsets[0]))
    for subset in subsets[1:]:
        q |= models.Q(pk__in=_pks(subset))
    return model._base_manager.filter(q)


def _narrow(
    model: type[models.Model], rows: QuerySet, ctx: _Context, *, depth: int = 0, record: bool = True
) -> QuerySet:
    """``rows`` less every row that a kept row refers to through a relation that would remove it.

    A held interaction keeps its contact (a cascade would take it along); a
    document kept as an accounting record keeps its application.
    """
    if depth > MAX_DEPTH:
        return rows
    declaration = registry.get(model)
    for relation in _relations(model):
        child, fk = relation.related_model, relation.field
        if child._meta.auto_created:
            continue  # link rows: cut, never a reason to keep
        rule = relation.on_delete
        if rule in (models.SET_NULL, models.DO_NOTHING):
            continue
        children = child._base_manager.filter(**{f"{fk.name}__in": _pks(rows)})
        if not children.exists():
            continue
        child_declaration = _personal(child)
        protected: list[QuerySet] = []
        if child_declaration is not None and child_declaration.erasure is Erasure.KEEP:
            # A record kept on purpose loses its link to the person; one that cannot keeps them.
            if not fk.null:
                protected.append(children)
        elif rule in (models.PROTECT, models.RESTRICT):
            protected.append(children)
        elif rule is models.CASCADE:
            if child_declaration is not None:
                for subset, why in ctx.protected(child_declaration, children):
                    if subset.exists():
                        protected.append(subset)
                        if record and depth == 0:
                            ctx.outcome.line(child_declaration).kept[why] += _count(subset)
            anonymised = (
                child_declaration is not None
                and child_declaration.erasure is Erasure.ANONYMISE
                and fk.null
                and _can_anonymise(child_declaration) is not None
            )
            if not anonymised:
                going = children
                for subset in protected:
                    going = going.exclude(pk__in=_pks(subset))
                survivors = _narrow(child, going, ctx, depth=depth + 1, record=False)
                deeper = going.exclude(pk__in=_pks(survivors))
                if deeper.exists():
                    protected.append(deeper)
        if not protected:
            continue
        kept_parents = models.Q()
        for subset in protected:
            kept_parents |= models.Q(pk__in=subset.order_by().values(fk.attname))
        if record and declaration is not None and declaration.holds_personal_data:
            n = _count(rows.filter(kept_parents))
            if n:
                ctx.outcome.line(declaration).kept[str(REFERENCED_BY_KEPT)] += n
        rows = rows.exclude(kept_parents)
    return rows


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
    if ctx.dry_run:
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
    return rows.model._base_manager.filter(pk__in=_pks(rows)).update(**values)


def _delete_rows(model: type[models.Model], rows: QuerySet, ctx: _Context) -> int:
    if ctx.dry_run:
        return _count(rows)
    queryset = model._default_manager.filter(pk__in=list(_pks(rows).values_list("pk", flat=True)))
    if hasattr(queryset, "erasable"):
        # A model that guards its own deletion (the consent ledger) lets the
        # registry's removal through its ``erasable()`` queryset, and only that.
        _total, per_model = queryset.erasable().delete()
        return per_model.get(model._meta.label, 0)
    return queryset._raw_delete(queryset.db)


def _anonymise_rows(declaration: PersonalData, rows: QuerySet, plan: dict[str, Any], ctx: _Context) -> int:
    file_fields = [
        name
        for name, value in plan.items()
        if value == "" and isinstance(declaration.model._meta.get_field(name), models.FileField)
    ]
    if file_fields:
        _collect_files(declaration.model, rows, ctx, only=file_fields)
    _forget_admin_log(declaration.model, rows, ctx)
    count = _update(rows, plan, ctx)
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
    if owner_declaration is not None:
        ctx.outcome.line(owner_declaration).links_cut += count
    elif count:
        ctx.outcome.other[through._meta.label_lower] += count


def _remove_children(
    model: type[models.Model], rows: QuerySet, ctx: _Context, *, parent_stays: bool, depth: int
) -> None:
    """Everything that hangs off ``rows``, by each relation's rule and each child's declaration."""
    if depth > MAX_DEPTH:
        raise RuntimeError(f"removal: relations deeper than {MAX_DEPTH} below {model._meta.label}")
    for relation in _relations(model):
        child, fk = relation.related_model, relation.field
        children = ctx.not_targeted(child._base_manager.filter(**{f"{fk.name}__in": _pks(rows)}))
        if child._meta.auto_created:
            if children.exists():
                _cut_many_to_many(relation, children, ctx)
            continue
        rule = relation.on_delete
        declaration = _personal(child)
        if parent_stays:
            # The row stays, anonymised: what hangs off it follows its own declaration,
            # keeping its link so that counts per month and kind survive.
            if declaration is None or rule is not models.CASCADE or declaration.erasure is Erasure.KEEP:
                continue
            if not children.exists():
                continue
            for subset, why in ctx.protected(declaration, children):
                n = _count(subset)
                if n:
                    ctx.outcome.line(declaration).kept[why] += n
                    children = children.exclude(pk__in=_pks(subset))
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
        if rule is models.DO_NOTHING or not children.exists():
            continue
        if rule is models.SET_NULL or (
            declaration is not None and declaration.erasure is Erasure.KEEP and fk.null
        ):
            # The link is cut, the row stays: a record kept on purpose (a legal hold, lifted
            # or ended, is lifted, never deleted) or a row that merely pointed at the person.
            n = _update(children, {fk.name: None}, ctx)
            if declaration is not None:
                ctx.outcome.line(declaration).links_cut += n
            else:
                ctx.outcome.other[child._meta.label_lower] += n
            continue
        if rule in (models.PROTECT, models.RESTRICT):
            continue  # _narrow kept the parents
        if rule is not models.CASCADE:
            n = _update(children, {fk.name: fk.get_default()}, ctx)
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
    declaration: PersonalData, rows: QuerySet, ctx: _Context, *, count_kept: bool = True
) -> None:
    """A record kept on purpose (proof that we answered a request) stays; the details about the
    person that its declaration names go, except where they are still needed (``details_needed``:
    an open request must be answered at its address; its redaction follows the answer) or held."""
    plan = _redaction_plan(declaration)
    if plan:
        going = rows.exclude(declaration.details_needed) if declaration.details_needed is not None else rows
        held = registry.held_rows(declaration)
        if held is not None:
            going = going.exclude(held)
        # Already without details: nothing to do, nothing to count.
        static = {k: v for k, v in plan.items() if not hasattr(v, "resolve_expression")}
        if static:
            going = going.exclude(**static)
        _anonymise_rows(declaration, going, plan, ctx)
    n = _count(rows) if count_kept else 0
    if n and declaration.holds_personal_data:
        ctx.outcome.line(declaration).kept[str(declaration.kept_because)] += n


def _spare_owners_of_held_rows(declaration: PersonalData, rows: QuerySet, ctx: _Context) -> QuerySet:
    """``rows`` less those a held row belongs to (a category hold on interactions, say).

    Anonymising the owner would leave the held rows unattributable, which defeats
    the hold as surely as deleting them (Art. 17(3)(e)): the owner stays as it is,
    as it does when the policy deletes (``_narrow``).
    """
    for relation in _relations(declaration.model):
        child, fk = relation.related_model, relation.field
        child_declaration = _personal(child)
        if child._meta.auto_created or child_declaration is None:
            continue
        held = registry.held_rows(child_declaration)
        if held is None:
            continue
        owners = child._base_manager.filter(held, **{f"{fk.name}__in": _pks(rows)})
        owned = models.Q(pk__in=owners.order_by().values(fk.attname))
        n = _count(rows.filter(owned))
        if n:
            ctx.outcome.line(declaration).kept[str(REFERENCED_BY_KEPT)] += n
            rows = rows.exclude(owned)
    return rows


def _run_target(target: Target, ctx: _Context) -> None:
    declaration, rows = target.declaration, target.rows
    if target.action is Action.DECLARED and declaration.erasure is Erasure.KEEP:
        _keep_without_details(declaration, rows, ctx)
        return
    for subset, why in ctx.protected(declaration, rows):
        n = _count(subset)
        if n:
            if declaration.holds_personal_data:
                ctx.outcome.line(declaration).kept[why] += n
            rows = rows.exclude(pk__in=_pks(subset))
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
    """
    targets = sorted(
        targets,
        key=lambda t: (
            not (
                t.action is Action.ANONYMISE
                or (t.action is Action.DECLARED and t.declaration.erasure is Erasure.ANONYMISE)
            ),
            t.declaration.label,
        ),
    )
    outcome = RemovalOutcome(dry_run=dry_run)
    ctx = _Context(door=door, dry_run=dry_run, outcome=outcome)
    if dry_run:
        for target in targets:
            ctx.targeted.setdefault(target.declaration.model, []).append(target.rows)
    with transaction.atomic():
        for target in targets:
            _run_target(target, ctx)
        if dry_run:
            outcome.files = []
            return outcome
        for label in sorted(ctx.touched):
            audit_record(
                actor=actor,
                action=audit_action,
                target_type=label,
                target_id=reference,
                fields=ctx.touched[label].personal_fields,
            )
        files = list(outcome.files)
        if files:
            transaction.on_commit(lambda: _delete_files(files))
    return outcome


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
