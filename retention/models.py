"""Retention: how long each category of personal data is kept, what is held back, and what ran.

The policy (Hvor lenge lagrer vi personopplysninger?) promises that data is
deleted when no longer needed, may be kept a reasonable time after the last
interaction, and is used for statistics only when anonymised: Art. 5(1)(e)
storage limitation.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RetentionPolicy(models.Model):
    class Action(models.TextChoices):
        DELETE = "delete", _("Delete")
        # Art. 89 and recital 26: anonymised data is no longer personal data.
        ANONYMISE = "anonymise", _("Anonymise and keep for statistics")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    category = models.CharField(
        _("data category"), max_length=50, help_text=_("A category from the registry of personal data.")
    )
    period_days = models.PositiveIntegerField(
        _("period in days"),
        validators=[MinValueValidator(1)],
        error_messages={"null": _("Give the retention period in days.")},
    )
    anchor = models.CharField(
        _("measured from"),
        max_length=100,
        blank=True,
        help_text=_(
            "The event the period runs from, as a field of the category's records. "
            "Empty: the event the registry declares (last interaction, decision, visit)."
        ),
    )
    fallback_anchor = models.CharField(
        _("when the event has not happened"),
        max_length=100,
        blank=True,
        help_text=_(
            "Measure from this field instead while the event is empty (a contact never "
            "interacted with: from its creation). Empty: such records are not due."
        ),
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices, default=Action.DELETE)
    keep_for_statistics = models.JSONField(
        _("fields kept when anonymising"),
        default=list,
        blank=True,
        help_text=_("Fields that statistics need and that identify nobody on their own, e.g. organisation."),
    )
    exempt_active_customers = models.BooleanField(
        _("spare contacts of active customers"),
        default=True,
        help_text=_("Leave alone anyone who represents an organisation with an active customer contract."),
    )
    max_share = models.DecimalField(
        _("safety valve"),
        max_digits=4,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text=_(
            "Stop and alert the privacy officer when a run would remove more than this share "
            "of the category (0.3 = 30 %). Empty: the site-wide setting."
        ),
    )
    reason = models.TextField(_("why this period"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_days__gte=1),
                name="retention_policy_period_positive",
                violation_error_message=_("The retention period must be at least one day."),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        from core.registry import Erasure, registry

        from .selectors import _resolve, policy_plan

        declarations = registry.by_category(self.category)
        if not declarations:
            known = ", ".join(c for c in registry.categories() if c)
            raise ValidationError(
                {"category": _("Unknown data category. Known categories: %(known)s.") % {"known": known}}
            )
        kept = [d for d in declarations if d.erasure is Erasure.KEEP]
        # Models kept on purpose are never swept; a category of nothing else gets no policy.
        declarations = [d for d in declarations if d.erasure is not Erasure.KEEP]
        if not declarations:
            raise ValidationError(
                {"category": _("This category is kept on purpose and is never swept: %(why)s")
                 % {"why": kept[0].kept_because}}
            )  # fmt: skip
        errors: dict[str, list[str]] = {}
        for declaration in declarations:
            for name, path in (("anchor", self.anchor or declaration.retention_anchor),
                               ("fallback_anchor", self.fallback_anchor)):  # fmt: skip
                if not path:
                    if name == "anchor":
                        errors.setdefault(name, []).append(
                            _("The registry names no event to measure this category from; name one.")
                        )
                    continue
                try:
                    field = _resolve(declaration.model, path)
                except (FieldDoesNotExist, AttributeError):
                    field = None
                if not isinstance(field, models.DateField):
                    errors.setdefault(name, []).append(
                        _("“%(path)s” is not a date of every record in this category.") % {"path": path}
                    )
            if self.action == self.Action.ANONYMISE:
                try:
                    policy_plan(self, declaration)
                except ValueError as error:
                    errors.setdefault("action", []).append(
                        _("These records cannot be anonymised: %(field)s cannot be emptied; delete them, "
                          "or keep that field for statistics.") % {"field": str(error)}
                    )  # fmt: skip
        if errors:
            raise ValidationError(errors)


class LegalHoldQuerySet(models.QuerySet["LegalHold"]):
    def active(self, *, on: date | None = None) -> LegalHoldQuerySet:
        # From the moment it is placed until it ends or is lifted; ``starts_on``
        # records when the claim began, it does not delay the protection.
        on = on or timezone.localdate()
        return self.filter(lifted_at__isnull=True, ends_on__gte=on)

    def spent(self, *, on: date | None = None) -> LegalHoldQuerySet:
        on = on or timezone.localdate()
        return self.filter(Q(lifted_at__isnull=False) | Q(ends_on__lt=on))


class LegalHold(models.Model):
    """Data that must not be swept, whatever its policy says.

    Art. 17(3)(e): data needed for legal claims is exempt from erasure. A hold
    covers one contact, every contact of one organisation, or a whole category.
    """

    class Scope(models.TextChoices):
        CONTACT = "contact", _("A contact")
        ORGANISATION = "organisation", _("An organisation's contacts")
        CATEGORY = "category", _("A whole data category")

    scope = models.CharField(_("held"), max_length=12, choices=Scope.choices)
    # PROTECT: a held contact cannot be deleted by anyone until the hold is lifted; once
    # it is spent, the removal engine cuts this link and the hold stays.
    contact = models.ForeignKey(
        "subjects.Contact",
        verbose_name=_("contact"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    organisation = models.ForeignKey(
        "subjects.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="legal_holds",
    )
    category = models.CharField(_("data category"), max_length=50, blank=True)
    reason = models.TextField(
        _("reason"), error_messages={"blank": _("Say why the data is held (a claim, a case number).")}
    )
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    ends_on = models.DateField(_("until"))
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("placed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.CheckConstraint(
                # The contact (or organisation) may be gone: a spent hold is a record of a
                # legal duty and stays when the removal engine removes what it held, its
                # link cut (README: holds are lifted, never deleted).
                condition=(
                    Q(scope="contact", organisation__isnull=True, category="")
                    | Q(scope="organisation", contact__isnull=True, category="")
                    | Q(scope="category", contact__isnull=True, organisation__isnull=True) & ~Q(category="")
                ),
                name="legal_hold_one_target",
                violation_error_message=_("A hold covers exactly one contact, organisation or category."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="legal_hold_ends_after_start",
                violation_error_message=_("A hold cannot end before it starts."),
            ),
        ]
        indexes = [
            # The sweep reads the active holds on every batch.
            models.Index(fields=["ends_on"], name="legal_hold_ends_idx", condition=Q(lifted_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} #{self.pk}"

    def clean(self) -> None:
        from core.registry import registry

        targets = {
            self.Scope.CONTACT: ("contact", self.contact_id, _("Choose the contact to hold.")),
            self.Scope.ORGANISATION: (
                "organisation",
                self.organisation_id,
                _("Choose the organisation to hold."),
            ),
            self.Scope.CATEGORY: ("category", self.category, _("Choose the data category to hold.")),
        }
        if self.scope in targets:
            name, value, message = targets[self.scope]
            if not value:
                raise ValidationError({name: message})
            others = [n for n, v, _m in targets.values() if n != name and v]
            if others:
                raise ValidationError({others[0]: _("A hold covers one contact, organisation or category.")})
        if self.scope == self.Scope.CATEGORY and self.category not in registry.categories():
            raise ValidationError({"category": _("Unknown data category.")})
        if self.reason is not None and not self.reason.strip():
            raise ValidationError({"reason": _("Say why the data is held (a claim, a case number).")})

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None and timezone.localdate() <= self.ends_on


class SweepRun(models.Model):
    """One run of one policy. Counts and error kinds only: never the removed data."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        DRY_RUN = "dry_run", _("Dry run")
        STOPPED_BY_VALVE = "stopped", _("Stopped by the safety valve")
        HELD = "held", _("Category on hold")
        INTERRUPTED = "interrupted", _("Interrupted; the next run goes on")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped: another sweep held the lock")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Schedule")
        COMMAND = "command", _("Command")
        ADMIN = "admin", _("Admin")

    policy = models.ForeignKey(
        RetentionPolicy, verbose_name=_("policy"), on_delete=models.SET_NULL, null=True, related_name="runs"
    )
    policy_code = models.CharField(_("policy code"), max_length=50)
    category = models.CharField(_("data category"), max_length=50)
    trigger = models.CharField(_("started by"), max_length=10, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cutoff = models.DateTimeField(_("removed what was older than"), null=True, blank=True)
    due = models.PositiveIntegerField(_("due at start"), default=0)
    total = models.PositiveIntegerField(_("rows in the category"), default=0)
    deleted = models.PositiveIntegerField(_("deleted"), default=0)
    anonymised = models.PositiveIntegerField(_("anonymised"), default=0)
    batches = models.PositiveIntegerField(_("batches"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # The Celery task that ran it: a redelivered task (its worker was killed) finds its own
    # interrupted run by this id and takes it over without waiting for the lease.
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    # [{"model": "subjects.contact", "id": 17, "error": "ProtectedError"}]: ids and
    # exception class names only, so the record holds no personal data.
    errors = models.JSONField(_("error details"), default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("sweep run")
        verbose_name_plural = _("sweep runs")
        indexes = [models.Index(fields=["policy_code", "-started_at"], name="sweep_run_policy_idx")]

    def __str__(self) -> str:
        return f"{self.policy_code} {self.started_at:%Y-%m-%d %H:%M}"


class SweepLock(models.Model):
    """A lease that one sweep holds at a time.

    Claimed with a conditional UPDATE (works on PostgreSQL and SQLite alike) and
    renewed after every batch; a worker killed with SIGKILL cannot release it,
    so it expires after ``RETENTION_LOCK_LEASE_SECONDS`` and the next run takes over.
    """

    name = models.CharField(max_length=50, unique=True)
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sweep lock")
        verbose_name_plural = _("sweep locks")

    def __str__(self) -> str:
        return self.name


class RetentionStatistic(models.Model):
    """Counts of what retention removed, per month, organisation and relationship.

    Recital 26: a cell that counts fewer than ``MIN_PEOPLE`` rows describes a
    person, not a statistic; such cells are rolled up into coarser ones (no
    organisation, then the year, then no relationship or kind) after each run.

    Filled in the same transaction as the deletion, so the figures outlive the
    rows without naming anyone (the policy: statistics only anonymised). The
    organisation is kept as a plain id, not a foreign key, so the figures also
    outlive the organisation.
    """

    class Period(models.TextChoices):
        MONTH = "month", _("Month")
        YEAR = "year", _("Year")

    category = models.CharField(_("data category"), max_length=50)
    model = models.CharField(_("record type"), max_length=100)
    # The first day of the month, or of the year when ``period`` is a year (a cell rolled up).
    month = models.DateField(_("month"))
    period = models.CharField(_("period"), max_length=5, choices=Period.choices, default=Period.MONTH)
    organisation_ref = models.BigIntegerField(_("organisation id"), default=0)
    relationship = models.CharField(_("relationship"), max_length=12, blank=True)
    kind = models.CharField(_("kind"), max_length=20, blank=True)
    count = models.PositiveBigIntegerField(_("count"), default=0)

    class Meta:
        ordering = ["-month", "category", "model"]
        verbose_name = _("retention statistic")
        verbose_name_plural = _("retention statistics")
        constraints = [
            # The sweep adds to a row with INSERT ... ON CONFLICT on exactly these columns.
            models.UniqueConstraint(
                fields=["category", "model", "month", "organisation_ref", "relationship", "kind", "period"],
                name="retention_statistic_key",
            ),
        ]

    MIN_PEOPLE = 5

    def __str__(self) -> str:
        when = f"{self.month:%Y}" if self.period == self.Period.YEAR else f"{self.month:%Y-%m}"
        return f"{self.model} {when}: {self.count}"
