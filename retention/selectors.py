"""Reads: what each policy makes due, and what must never be swept.

Everything goes through the registry of personal data (core.registry): a
policy names a category, the registry names the models in it, the field the
period runs from, and how to reach the person a row is about. Nothing here
knows a model by name except the register's Contact and Organisation, which
the rules themselves name (a contact of an active customer, a hold on an
organisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.registry import Erasure, PersonalData, registry
from core.removal import anonymise_plan
from subjects.models import Contact, Organisation

from .models import LegalHold, RetentionPolicy


def _resolve(model: type[models.Model], path: str) -> models.Field:
    """The field at the end of an ORM path (``"application__decided_at"``)."""
    *hops, last = path.split("__")
    for hop in hops:
        model = model._meta.get_field(hop).related_model
    return model._meta.get_field(last)


def path_to_model(model: type[models.Model], target: type[models.Model], *, depth: int = 3) -> str | None:
    """The ORM path of forward foreign keys from ``model`` to ``target``; "" when it is ``target``."""
    if model is target:
        return ""
    if depth == 0:
        return None
    for field in model._meta.concrete_fields:
        if field.is_relation and field.many_to_one and field.related_model is not None:
            rest = path_to_model(field.related_model, target, depth=depth - 1)
            if rest is not None:
                return f"{field.name}__{rest}" if rest else field.name
    return None


def policy_declarations(policy: RetentionPolicy) -> list[PersonalData]:
    """The models a policy sweeps, children before parents.

    A child (an application's document) is swept on its own before its parent,
    so that whatever the child owns (a stored file) is removed with it.
    """
    declarations = [d for d in registry.by_category(policy.category) if d.erasure is not Erasure.KEEP]
    models_here = {d.model for d in declarations}

    def depth(declaration: PersonalData) -> int:
        parents = {
            f.related_model
            for f in declaration.model._meta.concrete_fields
            if f.is_relation and f.related_model in models_here and f.related_model is not declaration.model
        }
        return 0 if parents else 1

    return sorted(declarations, key=lambda d: (depth(d), d.label))


def anchor_path(policy: RetentionPolicy, declaration: PersonalData) -> str | None:
    return policy.anchor or declaration.retention_anchor


def anchor_expression(policy: RetentionPolicy, declaration: PersonalData) -> Any:
    anchor = anchor_path(policy, declaration)
    if policy.fallback_anchor:
        return Coalesce(F(anchor), F(policy.fallback_anchor))
    return F(anchor)


def policy_cutoff(policy: RetentionPolicy, *, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=policy.period_days)


def active_customers(*, today: date | None = None) -> QuerySet:
    """Organisations with an active customer contract, as the register records it."""
    today = today or timezone.localdate()
    return Organisation.objects.filter(
        Q(customer_contract_ends__isnull=True) | Q(customer_contract_ends__gte=today), is_customer=True
    )


def held_contacts(*, today: date | None = None) -> QuerySet:
    holds = LegalHold.objects.active(on=today)
    return Contact.objects.filter(
        Q(pk__in=holds.filter(scope=LegalHold.Scope.CONTACT).values("contact_id"))
        | Q(organisation__in=holds.filter(scope=LegalHold.Scope.ORGANISATION).values("organisation_id"))
    )


def category_is_held(category: str, *, today: date | None = None) -> bool:
    return (
        LegalHold.objects.active(on=today).filter(scope=LegalHold.Scope.CATEGORY, category=category).exists()
    )


def held_rows(declaration: PersonalData, *, today: date | None = None) -> Q | None:
    """The rows of ``declaration`` an active legal hold keeps (Art. 17(3)(e)); None when none can be.

    The registry's hold source (retention/personal_data.py): the removal engine
    asks it before anything goes, whoever asks, and the sweep's due set leaves
    the same rows out. A category hold keeps every row of its category; a
    contact or organisation hold keeps the rows tied to that contact, or found
    by its address, or the organisation itself.
    """
    holds = LegalHold.objects.active(on=today)
    # A category hold keeps every row of the category: asked inside the statement that
    # uses the filter (one EXISTS, evaluated once), not by a query of its own per model.
    category: Q | None = None
    if declaration.category:
        category = Q(Exists(holds.filter(scope=LegalHold.Scope.CATEGORY, category=declaration.category)))

    def or_category(q: Q) -> Q:
        return q if category is None else category | q

    contact_holds = holds.filter(scope=LegalHold.Scope.CONTACT).values("contact_id")
    organisation_holds = holds.filter(scope=LegalHold.Scope.ORGANISATION).values("organisation_id")
    if declaration.model is Organisation:
        return or_category(Q(pk__in=organisation_holds))
    contact_path = path_to_model(declaration.model, Contact)
    if contact_path is not None:
        # Compared by id with the few held contacts (held themselves, or through their
        # organisation), read once per statement: no join from every row to the register,
        # which at a million contacts the planner did as a scan of the whole register.
        prefix = f"{contact_path}__" if contact_path else ""
        # Two sets, not one OR inside the register's query: an OR of the two would scan it.
        organisation_contacts = Contact.objects.filter(organisation__in=organisation_holds).values("pk")
        return or_category(
            Q(**{f"{prefix}pk__in": contact_holds}) | Q(**{f"{prefix}pk__in": organisation_contacts})
        )
    if declaration.subject_email_path is not None:
        # Rows found by the person's address (a job application): held when a held contact has it.
        return or_category(
            Q(Exists(held_contacts(today=today).filter(email=OuterRef(declaration.subject_email_path))))
        )
    if declaration.find_rows is not None:
        emails = list(held_contacts(today=today).values_list("email", flat=True))
        if emails:
            return or_category(Q(pk__in=declaration.find_rows(emails).values("pk")))
    return category


def _exclude_people(queryset: QuerySet, declaration: PersonalData, sources: dict[str, QuerySet]) -> QuerySet:
    """Leave out everyone a guard names (an open data-subject request: Art. 17(3) and 18 forbid
    erasing what a pending request is about). Guards are read afresh for every batch, so a
    request opened while a sweep runs protects its person from the next batch on."""
    for emails in sources.values():
        if declaration.subject_email_path is not None:
            # NOT IN (subquery): a NULL from a guard excludes everything, which
            # errs on the side of keeping.
            queryset = queryset.exclude(**{f"{declaration.subject_email_path}__in": emails})
        elif declaration.find_rows is not None:
            found = declaration.find_rows(sorted(set(emails)))
            queryset = queryset.exclude(pk__in=found.values("pk"))
    return queryset


def anonymised_marker(plan: dict[str, Any]) -> Q | None:
    """Rows whose fixed replacements are already in place: anonymised by an earlier batch."""
    static = {k: v for k, v in plan.items() if not hasattr(v, "resolve_expression")}
    return Q(**static) if static else None


def policy_due(
    *,
    policy: RetentionPolicy,
    declaration: PersonalData,
    now: datetime | None = None,
    plan: dict[str, Any] | None = None,
) -> QuerySet:
    """The rows of ``declaration`` the policy makes due now, less everything protected."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = policy_cutoff(policy, now=now)
    anchor_field = _resolve(declaration.model, anchor_path(policy, declaration))
    if not isinstance(anchor_field, models.DateTimeField):
        cutoff = timezone.localdate(cutoff)
    queryset = declaration.model._default_manager.alias(
        _retention_anchor=anchor_expression(policy, declaration)
    )
    queryset = queryset.filter(_retention_anchor__lt=cutoff)
    # Guards name few people (open requests, restrictions): NOT IN over a small set.
    guards = {name: guard() for name, guard in registry.guards().items()}
    queryset = _exclude_people(queryset, declaration, guards)
    held = held_rows(declaration, today=today)
    if held is not None:
        queryset = queryset.exclude(held)
    contact_path = path_to_model(declaration.model, Contact)
    if contact_path is not None and policy.exempt_active_customers:
        prefix = f"{contact_path}__" if contact_path else ""
        queryset = queryset.exclude(**{f"{prefix}organisation__in": active_customers(today=today)})
    if plan is not None and (marker := anonymised_marker(plan)) is not None:
        queryset = queryset.exclude(marker)
    return queryset


def policy_sample(
    *, policy: RetentionPolicy, declaration: PersonalData, size: int = 10
) -> list[dict[str, Any]]:
    """A few due rows for the preview: id and how it reads in the admin, nothing more."""
    plan = policy_plan(policy, declaration)
    rows = policy_due(policy=policy, declaration=declaration, plan=plan).order_by("pk")[:size]
    return [{"pk": row.pk, "label": str(row)} for row in rows]


@dataclass(frozen=True)
class PreviewLine:
    policy: RetentionPolicy
    declaration: PersonalData
    due: int
    total: int
    due_in_30_days: int
    sample: list[dict[str, Any]]
    held: bool

    @property
    def share(self) -> float:
        return self.due / self.total if self.total else 0.0


def retention_preview(*, policies: QuerySet | None = None, sample_size: int = 10) -> list[PreviewLine]:
    """What the next run will remove, per policy and model, and what becomes due within 30 days."""
    now = timezone.now()
    lines = []
    policies = policies if policies is not None else RetentionPolicy.objects.filter(enabled=True)
    for policy in policies:
        held = category_is_held(policy.category)
        for declaration in policy_declarations(policy):
            plan = policy_plan(policy, declaration)
            due = policy_due(policy=policy, declaration=declaration, now=now, plan=plan).count()
            soon = policy_due(
                policy=policy, declaration=declaration, now=now + timedelta(days=30), plan=plan
            ).count()
            lines.append(
                PreviewLine(
                    policy=policy,
                    declaration=declaration,
                    due=due,
                    total=declaration.model._default_manager.count(),
                    due_in_30_days=max(0, soon - due),
                    sample=policy_sample(policy=policy, declaration=declaration, size=sample_size)
                    if due
                    else [],
                    held=held,
                )
            )
    return lines


def valve_share(policy: RetentionPolicy) -> float:
    if policy.max_share is not None:
        return float(policy.max_share)
    return float(settings.RETENTION_MAX_SHARE)


def policy_plan(policy: RetentionPolicy, declaration: PersonalData) -> dict[str, Any] | None:
    if policy.action != RetentionPolicy.Action.ANONYMISE:
        return None
    return anonymise_plan(declaration, keep=tuple(policy.keep_for_statistics or ()))


@dataclass(frozen=True)
class PolicyExplanation:
    """What a policy would do now, in words a privacy officer reads (the preview and the dry run)."""

    policy: RetentionPolicy
    cutoff: datetime
    anchor: str
    lines: list[str]


def _field_words(declaration: PersonalData, path: str) -> str:
    try:
        return str(_resolve(declaration.model, path).verbose_name)
    except Exception:
        return path


def policy_explain(*, policy: RetentionPolicy, now: datetime | None = None) -> PolicyExplanation:
    """Per model of the policy's category: how many rows are past the cut-off, how many go, how many are
    spared and why (legal hold, a guard, an active customer), and what would go with them by cascade,
    per table, from the removal engine's own dry run. Reads only."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from core.removal import Action, Door, Target, removal_preview
    from core.removal.words import ACTIVE_CUSTOMER_KEPT_BECAUSE, GUARDED_KEPT_BECAUSE, LEGAL_HOLD_KEPT_BECAUSE

    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = policy_cutoff(policy, now=now)
    lines: list[str] = []
    anchor_words = ""
    held_category = category_is_held(policy.category, today=today)
    for declaration in policy_declarations(policy):
        anchor = anchor_path(policy, declaration) or ""
        anchor_words = _field_words(declaration, anchor)
        if policy.fallback_anchor:
            anchor_words = _("%(anchor)s (or %(fallback)s when empty)") % {
                "anchor": anchor_words,
                "fallback": _field_words(declaration, policy.fallback_anchor),
            }
        past = declaration.model._default_manager.alias(
            _retention_anchor=anchor_expression(policy, declaration)
        ).filter(
            _retention_anchor__lt=cutoff
            if isinstance(_resolve(declaration.model, anchor), models.DateTimeField)
            else timezone.localdate(cutoff)
        )
        plan = policy_plan(policy, declaration)
        due = policy_due(policy=policy, declaration=declaration, now=now, plan=plan)
        title = str(declaration.description)
        lines.append(
            ngettext(
                "%(title)s: %(past)d row is past the cut-off, %(due)d would go.",
                "%(title)s: %(past)d rows are past the cut-off, %(due)d would go.",
                past.count(),
            )
            % {"title": title, "past": past.count(), "due": 0 if held_category else due.count()}
        )
        spared: list[tuple[str, int]] = []
        held = held_rows(declaration, today=today)
        if held is not None:
            spared.append((str(LEGAL_HOLD_KEPT_BECAUSE), past.filter(held).count()))
        guarded = 0
        for guard in registry.guards().values():
            emails = guard()
            if declaration.subject_email_path is not None:
                guarded += past.filter(**{f"{declaration.subject_email_path}__in": emails}).count()
        spared.append((str(GUARDED_KEPT_BECAUSE), guarded))
        contact_path = path_to_model(declaration.model, Contact)
        if contact_path is not None and policy.exempt_active_customers:
            prefix = f"{contact_path}__" if contact_path else ""
            customers = past.filter(**{f"{prefix}organisation__in": active_customers(today=today)}).count()
            spared.append((str(ACTIVE_CUSTOMER_KEPT_BECAUSE), customers))
        for why, count in spared:
            if count:
                lines.append("  " + _("%(count)d spared: %(why)s") % {"count": count, "why": why})
        if held_category or not due.exists():
            continue
        outcome = removal_preview(
            targets=[
                Target(
                    declaration,
                    due,
                    action=Action.DELETE if plan is None else Action.ANONYMISE,
                    keep_fields=tuple(policy.keep_for_statistics or ()),
                )
            ],
            door=Door.SWEEP,
        )
        lines.append("  " + _("With them, by cascade:"))
        lines += [f"    {line}" for line in outcome.describe()]
    return PolicyExplanation(policy=policy, cutoff=cutoff, anchor=anchor_words, lines=lines)
