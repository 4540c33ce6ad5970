"""Data-subject requests (GDPR Art. 12 and 15 to 21) and everything that happens to them.

A request counts only once the person has followed the emailed link (Art. 12(6):
we must know the request comes from the person). Its deadline is one month from
then (Art. 12(3)), extendable by two further months with reasons. Every step is
kept in its history, every email the person receives is kept with it, and the
recipients who must be told of a rectification or erasure (Art. 19) are listed
with when each was told.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subjects.models import get_private_storage


class DataSubjectRequest(models.Model):
    class Type(models.TextChoices):
        ACCESS = "access", _("Access to my data")
        RECTIFICATION = "rectification", _("Correct my data")
        ERASURE = "erasure", _("Erase my data")
        RESTRICTION = "restriction", _("Restrict the use of my data")
        PORTABILITY = "portability", _("Get my data to take elsewhere")
        OBJECTION = "objection", _("Object to the use of my data")
        WITHDRAWAL = "withdrawal", _("Withdraw my consent")
        OTHER = "other", _("Another question or a complaint")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, waiting for email confirmation")
        VERIFIED = "verified", _("Confirmed")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting for your reply")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # Still running: the deadline applies and retention must leave the person alone.
    OPEN = frozenset({Status.VERIFIED, Status.IN_PROGRESS, Status.WAITING})
    CLOSED = frozenset({Status.COMPLETED, Status.REFUSED, Status.WITHDRAWN})
    # Answers delivered as a file the person downloads.
    FILE_ANSWERS = frozenset({Type.ACCESS, Type.PORTABILITY})

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    details = models.TextField(_("details"), max_length=5000, blank=True)
    language = models.CharField(_("language"), max_length=2, default="nb")
    # The person's records in the register; staff confirm the match (one person
    # may have several records, under different addresses).
    contacts = models.ManyToManyField(
        "subjects.Contact", verbose_name=_("matched contacts"), blank=True, related_name="dsar_requests"
    )
    match_confirmed_at = models.DateTimeField(_("match confirmed"), null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    # Art. 12(3): the month runs from receipt, which is when the person confirmed.
    received_at = models.DateTimeField(_("received (confirmed)"), null=True, blank=True)
    first_due_date = models.DateField(_("first deadline"), null=True, blank=True)
    due_date = models.DateField(_("deadline"), null=True, blank=True)
    # Further months granted so far (Art. 12(3): at most two).
    extension_months = models.PositiveSmallIntegerField(_("months of extension"), default=0)
    extension_reason = models.TextField(_("reason for extension"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    answer = models.TextField(_("answer to the requester"), blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    answer_file = models.FileField(
        _("answer file"), storage=get_private_storage, blank=True, upload_to="dsar/"
    )
    answer_ready_at = models.DateTimeField(_("answer ready"), null=True, blank=True)
    # Set once the person's details are removed after an erasure (Art. 17):
    # the fact that we answered stays (Art. 5(2)), the person does not.
    redacted_at = models.DateTimeField(_("details removed"), null=True, blank=True)
    # Claims for the reminder job, so a reminder goes out once however often it runs.
    reminded_due_soon_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_overdue_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = [models.F("due_date").asc(nulls_last=True), "submitted_at"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [
            # The staff queue and the reminder job: open requests by deadline.
            models.Index(
                fields=["due_date"],
                name="dsar_open_due_idx",
                condition=models.Q(status__in=["verified", "in_progress", "waiting"]),
            ),
            # Repeat submissions, the contact page panel and the retention guard.
            models.Index(fields=["email", "status"], name="dsar_email_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_date__isnull=True)
                | models.Q(first_due_date__lte=models.F("due_date")),
                name="dsar_due_not_before_first_due",
            ),
            models.CheckConstraint(
                condition=models.Q(extension_months__lte=2), name="dsar_extension_at_most_two_months"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_extended(self) -> bool:
        return bool(self.due_date and self.first_due_date and self.due_date > self.first_due_date)


class RequestEvent(models.Model):
    """One step in a request's history: who, when, what and why."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        REPEATED = "repeated", _("Submitted again")
        VERIFIED = "verified", _("Email confirmed")
        VERIFIED_MANUALLY = "verified_manually", _("Identity verified by staff")
        MATCHED = "matched", _("Contacts matched")
        ASSIGNED = "assigned", _("Assigned")
        STARTED = "started", _("Work started")
        MESSAGE = "message", _("Message to the requester")
        WAITING = "waiting", _("Waiting for the requester")
        EXTENDED = "extended", _("Deadline extended")
        ANSWER_READY = "answer_ready", _("Answer prepared")
        COMPLETED = "completed", _("Completed")
        REFUSED = "refused", _("Refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        DOWNLOAD_LINK = "download_link", _("Download link sent")
        DOWNLOADED = "downloaded", _("Answer downloaded")
        RECIPIENT_TOLD = "recipient_told", _("Recipient told")
        REMINDED = "reminded", _("Reminder sent")
        REDACTED = "redacted", _("Personal details removed")
        EMAIL_FAILED = "email_failed", _("Email could not be delivered")
        ANSWER_DELETED = "answer_deleted", _("Answer file deleted after its period")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("when"), default=timezone.now)
    action = models.CharField(_("what"), max_length=20, choices=Action.choices)
    actor_kind = models.CharField(_("by whom (kind)"), max_length=12)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(_("from"), max_length=12, blank=True)
    to_status = models.CharField(_("to"), max_length=12, blank=True)
    # Internal: why (a reason, a note for colleagues).
    note = models.TextField(_("why"), blank=True)
    # Shown to the person on the status page.
    message = models.TextField(_("message to the requester"), blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("request event")
        verbose_name_plural = _("history")

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class RequestToken(models.Model):
    """A link we emailed: stored only as a SHA-256 digest, compared in constant time."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", _("Confirm the request")  # single use
        STATUS = "status", _("Follow the request")
        DOWNLOAD = "download", _("Download the answer")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="tokens")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("emailed link")
        verbose_name_plural = _("emailed links")

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class RequestEmail(models.Model):
    """An email to the person about their request: queued in the transaction, sent by a task.

    Queued with the step that causes it, so that it is sent if and only if the
    step commits; sent by ``request_email_send`` on its own (retried with backoff
    on mail-server errors), so that a slow or failing mail server never holds up
    a portal response, a redaction or a journal write. Once sent, the row is the
    copy the person received, without the link; a permanent failure is recorded
    here and in the request's history, for staff to see.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Could not be delivered")

    request = models.ForeignKey(DataSubjectRequest, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(_("kind"), max_length=40)
    status = models.CharField(_("delivery"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    queued_at = models.DateTimeField(_("queued"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    to = models.EmailField(_("to"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"), blank=True)
    # Until sent: the HTML part, when the email was written before sending (the
    # answer to an erasure is written before the request is redacted).
    html = models.TextField(_("HTML"), blank=True)
    # Which link the email carries; the token is made when it is sent, never stored in clear.
    link = models.CharField(_("link"), max_length=10, blank=True)
    event = models.ForeignKey(
        "RequestEvent", verbose_name=_("step"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    # The kind of error only (e.g. SMTPRecipientsRefused): never the server's text, which may name the person.
    failure = models.CharField(_("delivery failure"), max_length=100, blank=True)

    class Meta:
        ordering = ["queued_at", "pk"]
        verbose_name = _("email to the requester")
        verbose_name_plural = _("emails to the requester")
        indexes = [
            # The admin's "email failed" filter and the task that retries queued mail.
            models.Index(fields=["status"], name="dsar_email_not_sent", condition=~models.Q(status="sent")),
        ]

    def __str__(self) -> str:
        at = self.sent_at or self.queued_at
        return f"{self.kind} {at:%Y-%m-%d %H:%M}"


class RecipientNotice(models.Model):
    """Art. 19: a recipient of the person's data that must be told of a rectification or erasure."""

    class Channel(models.TextChoices):
        MANUAL = "manual", _("By staff (email, phone, ticket)")
        # Automatic delivery to connected systems comes with the integration API.
        API = "api", _("Through the integration API")

    request = models.ForeignKey(
        DataSubjectRequest, on_delete=models.CASCADE, related_name="recipient_notices"
    )
    recipient = models.CharField(_("recipient"), max_length=100)
    told_at = models.DateTimeField(_("told"), null=True, blank=True)
    told_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("told by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    channel = models.CharField(_("how"), max_length=8, choices=Channel.choices, blank=True)

    class Meta:
        ordering = ["recipient"]
        verbose_name = _("recipient to tell (Art. 19)")
        verbose_name_plural = _("recipients to tell (Art. 19)")
        constraints = [
            models.UniqueConstraint(fields=["request", "recipient"], name="recipient_notice_once_per_request")
        ]

    def __str__(self) -> str:
        return self.recipient


class ProcessingRestriction(models.Model):
    """Restriction (Art. 18) or objection (Art. 21) in force for an address.

    While in force, the data is kept but not used: consent checks say no and
    retention leaves it alone (a registry guard).
    """

    class Kind(models.TextChoices):
        RESTRICTION = "restriction", _("Restriction of processing (Art. 18)")
        OBJECTION = "objection", _("Objection to processing (Art. 21)")

    email = models.EmailField(_("email"), max_length=254)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    scope = models.TextField(_("what it concerns"), blank=True)
    request = models.ForeignKey(
        DataSubjectRequest,
        verbose_name=_("request"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="restrictions",
    )
    started_at = models.DateTimeField(_("from"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lift_reason = models.TextField(_("why lifted"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("restriction or objection")
        verbose_name_plural = _("restrictions and objections")
        indexes = [
            # The consent check and the retention guard ask for the ones in force.
            models.Index(fields=["email"], name="restriction_active_idx", condition=models.Q(lifted_at=None)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d}"
