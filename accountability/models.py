"""The registers of accountability: recipients, disclosures, breaches, records of processing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subjects.models import get_private_storage

# The EEA: the EU member states and Iceland, Liechtenstein and Norway. A transfer
# to any other country needs a ground under Chapter V (Art. 45, 46, 47).
EEA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})  # fmt: skip


class Recipient(models.Model):
    """Someone the company's personal data goes to (Art. 4(9)), named by the code the declarations use."""

    class Kind(models.TextChoices):
        PROCESSOR = "processor", _("Processor")
        SUB_PROCESSOR = "sub_processor", _("Sub-processor")
        CONTROLLER = "controller", _("Independent controller")
        AUTHORITY = "authority", _("Public authority")

    class TransferMechanism(models.TextChoices):
        NONE = "", _("None")
        ADEQUACY = "adequacy", _("Adequacy decision (Art. 45)")
        SCC = "scc", _("Standard contractual clauses (Art. 46(2)(c))")
        BCR = "bcr", _("Binding corporate rules (Art. 47)")

    code = models.SlugField(
        _("code"), max_length=50, unique=True, help_text=_("The code the declarations of personal data use.")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Art. 28(2) and (4): a sub-processor serves a processor of ours.
    serves = models.ForeignKey(
        "self",
        verbose_name=_("processor it serves"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_processors",
    )
    org_number = models.CharField(_("organisation number"), max_length=30, blank=True)
    country = models.CharField(
        _("country"), max_length=2, default="NO", help_text=_("ISO 3166 code, e.g. NO.")
    )
    transfer_mechanism = models.CharField(
        _("transfer mechanism"), max_length=10, choices=TransferMechanism.choices, blank=True, default=""
    )
    transfer_mechanism_date = models.DateField(_("transfer mechanism dated"), null=True, blank=True)
    dpa_signed_on = models.DateField(_("data processing agreement signed"), null=True, blank=True)
    dpa_document = models.FileField(
        _("data processing agreement"), storage=get_private_storage, upload_to="dpa/", blank=True
    )
    dpa_next_review = models.DateField(_("agreement's next review"), null=True, blank=True)
    categories = models.JSONField(_("data categories shared"), default=list, blank=True)
    purposes = models.JSONField(_("purposes shared for"), default=list, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Claims for the reminder job, so a reminder goes out once per review date.
    reminded_review_for = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(serves__isnull=True) | models.Q(kind="sub_processor"),
                name="recipient_only_sub_processor_serves",
                violation_error_message=_("Only a sub-processor serves another processor."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def outside_eea(self) -> bool:
        return self.country.upper() not in EEA_COUNTRIES

    @property
    def needs_agreement(self) -> bool:
        # Art. 28(3): processing by a processor is governed by a contract.
        return self.kind in {self.Kind.PROCESSOR, self.Kind.SUB_PROCESSOR}


class Disclosure(models.Model):
    """One time a person's data left for a recipient (Art. 15(1)(c), Art. 30(1)(d))."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        EXPORT = "export", _("Export")
        MANUAL = "manual", _("Manual disclosure recorded by staff")

    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="disclosures"
    )
    # SET_NULL: when the person is erased the fact of a disclosure stays (Art. 5(2)), the person goes.
    contact = models.ForeignKey(
        "subjects.Contact",
        verbose_name=_("person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
    )
    categories = models.JSONField(_("data categories"), default=list)
    purpose = models.CharField(_("purpose"), max_length=50, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    reason = models.CharField(_("why"), max_length=500, blank=True)
    disclosed_at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        indexes = [
            # disclosures_for(contact_ids) and the access report look rows up by person.
            models.Index(fields=["contact", "-disclosed_at"], name="disclosure_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.disclosed_at:%Y-%m-%d}"


# --- Breaches (Art. 33, 34) ------------------------------------------------------------------

# Art. 33(1): notify Datatilsynet within 72 hours of becoming aware of the breach.
NOTIFY_WITHIN = timedelta(hours=72)
# Hours after discovery at which beat reminds the privacy officer while the clock runs.
REMINDER_HOURS = (24, 48, 68)


class Breach(models.Model):
    """A personal data breach (Art. 4(12)), documented whatever the decision (Art. 33(5))."""

    class Risk(models.TextChoices):
        UNLIKELY = "unlikely", _("Unlikely to result in a risk (no notification, Art. 33(1))")
        RISK = "risk", _("A risk to people's rights and freedoms (notify Datatilsynet)")
        HIGH = "high", _("A high risk (notify Datatilsynet and tell the people, Art. 34)")

    class Decision(models.TextChoices):
        UNDECIDED = "undecided", _("Not decided yet")
        NOTIFY = "notify", _("Notify Datatilsynet")
        NOT_NOTIFY = "not_notify", _("Do not notify")

    title = models.CharField(_("short title"), max_length=200)
    discovered_at = models.DateTimeField(_("discovered at"), default=timezone.now)
    discovered_by = models.CharField(_("discovered by"), max_length=200)
    occurred_at = models.DateTimeField(_("occurred at (if known)"), null=True, blank=True)
    description = models.TextField(_("what happened"))
    categories = models.JSONField(_("data categories concerned"), default=list, blank=True)
    people_categories = models.CharField(_("categories of people concerned"), max_length=300, blank=True)
    approx_people = models.PositiveIntegerField(_("approximate number of people"), null=True, blank=True)
    approx_records = models.PositiveIntegerField(_("approximate number of records"), null=True, blank=True)
    consequences = models.TextField(_("likely consequences"), blank=True)
    measures_taken = models.TextField(_("measures taken"), blank=True)
    measures_proposed = models.TextField(_("measures proposed"), blank=True)
    risk = models.CharField(_("risk assessment"), max_length=10, choices=Risk.choices, blank=True)
    risk_assessment = models.TextField(_("risk assessment reasons"), blank=True)
    decision = models.CharField(
        _("decision on notifying Datatilsynet"),
        max_length=10,
        choices=Decision.choices,
        default=Decision.UNDECIDED,
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("Datatilsynet notified at"), null=True, blank=True)
    authority_reference = models.CharField(_("Datatilsynet's reference"), max_length=100, blank=True)
    # Art. 33(1): a notification after 72 hours gives the reasons for the delay.
    delay_reason = models.TextField(_("reasons for a late notification"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # Claim for the reminder job: the last reminder hour sent (0, 24, 48, 68).
    reminded_hours = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-discovered_at"]
        verbose_name = _("personal data breach")
        verbose_name_plural = _("personal data breaches")
        permissions = [("communicate_breach", _("Can tell the people concerned by a breach (Art. 34)"))]
        indexes = [
            # The dashboard and the reminder job: breaches whose clock still runs.
            models.Index(
                fields=["discovered_at"], name="breach_clock_idx", condition=models.Q(notified_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def deadline(self) -> datetime:
        # In UTC: 72 real hours, also across a change to or from summer time (a local
        # datetime plus a timedelta counts wall-clock hours, one too few in March).
        return self.discovered_at.astimezone(UTC) + NOTIFY_WITHIN

    @property
    def clock_running(self) -> bool:
        """Art. 33(1): until Datatilsynet is notified or it is decided not to notify."""
        return self.notified_at is None and self.decision != self.Decision.NOT_NOTIFY

    def hours_left(self, now: datetime | None = None) -> float:
        return ((self.deadline - (now or timezone.now())).total_seconds()) / 3600


class BreachRevision(models.Model):
    """Every version of a breach record, as saved (Art. 33(5): the documentation, with its history)."""

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("version"))
    saved_at = models.DateTimeField(_("saved at"), default=timezone.now)
    actor_kind = models.CharField(_("by (kind)"), max_length=16)
    actor_id = models.CharField(_("by"), max_length=100, blank=True)
    changed_fields = models.JSONField(_("changed fields"), default=list)
    snapshot = models.JSONField(_("the record as saved"))

    class Meta:
        ordering = ["breach", "-number"]
        verbose_name = _("breach record version")
        verbose_name_plural = _("breach record versions")
        constraints = [
            models.UniqueConstraint(fields=["breach", "number"], name="breach_revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.breach_id} v{self.number}"


class BreachCommunication(models.Model):
    """A message to the people concerned by a breach (Art. 34), reviewed in both languages, then sent."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft: review the message")
        SENDING = "sending", _("Sending")
        FINISHED = "finished", _("Everyone told")

    breach = models.ForeignKey(Breach, on_delete=models.PROTECT, related_name="communications")
    subject_nb = models.CharField(_("subject (bokmål)"), max_length=200)
    body_nb = models.TextField(_("message (bokmål)"))
    subject_en = models.CharField(_("subject (English)"), max_length=200)
    body_en = models.TextField(_("message (English)"))
    # How the people were chosen (ids and codes, never addresses).
    selection = models.JSONField(_("how the people were chosen"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="+",
    )  # fmt: skip
    approved_at = models.DateTimeField(_("approved and started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("message to the people concerned (Art. 34)")
        verbose_name_plural = _("messages to the people concerned (Art. 34)")

    def __str__(self) -> str:
        return f"{self.breach_id}: {self.subject_en}"


class BreachNotification(models.Model):
    """One person chosen to be told of a breach; ``sent_at`` once they were (each exactly once)."""

    communication = models.ForeignKey(BreachCommunication, on_delete=models.CASCADE, related_name="people")
    contact = models.ForeignKey(
        "subjects.Contact", on_delete=models.SET_NULL, null=True, related_name="breach_notifications"
    )
    language = models.CharField(_("language"), max_length=2)
    sent_at = models.DateTimeField(_("told at"), null=True, blank=True)

    class Meta:
        verbose_name = _("person told of a breach")
        verbose_name_plural = _("people told of a breach")
        constraints = [
            models.UniqueConstraint(fields=["communication", "contact"], name="breach_notification_once"),
        ]
        indexes = [
            # The sending job: the next people not yet told.
            models.Index(
                fields=["communication", "id"], name="breach_notif_todo_idx", condition=models.Q(sent_at=None)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.communication_id}/{self.contact_id}"


# --- Records of processing (Art. 30) -------------------------------------------------------------


class ProcessorActivity(models.Model):
    """Processing we carry out on a customer's behalf, as their processor (Art. 30(2))."""

    customer = models.ForeignKey(
        "subjects.Organisation", verbose_name=_("customer (controller)"), on_delete=models.PROTECT,
        related_name="processor_activities",
    )  # fmt: skip
    processing = models.TextField(_("categories of processing carried out"))
    sub_processors = models.ManyToManyField(
        Recipient, verbose_name=_("sub-processors engaged"), blank=True, related_name="processor_activities"
    )
    started_on = models.DateField(_("from"), default=timezone.localdate)
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        ordering = ["customer__name", "started_on"]
        verbose_name = _("processing for a customer (Art. 30(2))")
        verbose_name_plural = _("processing for customers (Art. 30(2))")

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.processing[:50]}"


class ProcessingRecordVersion(models.Model):
    """The records of processing as they stood from ``taken_at`` on, in both languages.

    A new version is kept whenever what the record is generated from changes
    (a purpose, a retention policy, a recipient, a customer's processing) and
    daily by beat, so the record of any past date can be shown again.
    """

    taken_at = models.DateTimeField(_("in force from"), default=timezone.now, db_index=True)
    digest = models.CharField(_("content digest"), max_length=64)
    content = models.JSONField(_("the records"))

    class Meta:
        ordering = ["-taken_at", "-id"]
        verbose_name = _("record of processing (version)")
        verbose_name_plural = _("records of processing (Art. 30)")

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M}"


# --- The privacy officer's dashboard -------------------------------------------------------------


class DashboardFigure(models.Model):
    """One aggregate the dashboard shows, computed by beat (``dashboard_refresh``), never on a page view.

    ``key`` names the figure (``requests``, ``consents_granted``, ``contacts_by_source``...),
    ``dimension`` what it is split by (a request type, a purpose, a source), ``month``
    the month it counts (empty for a figure of now).
    """

    key = models.CharField(max_length=40)
    dimension = models.CharField(max_length=100, blank=True)
    month = models.DateField(null=True, blank=True)
    value = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key", "month", "dimension"]
        verbose_name = _("dashboard figure")
        verbose_name_plural = _("dashboard figures")
        permissions = [("view_dashboard", _("Can see the privacy officer's dashboard"))]

    def __str__(self) -> str:
        return f"{self.key}/{self.dimension}/{self.month}: {self.value}"
