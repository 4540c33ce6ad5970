"""The integration API's own records: clients and their keys, idempotent answers,
import jobs, the requests a client filed, and the webhooks that tell other systems.

The API is a door: these tables describe who knocked and what we answered; the
register, the ledger and the requests themselves are written by their own apps'
services.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.crypto import KeyGenerator


class Scope(models.TextChoices):
    # Least privilege (Art. 25, 32): a client gets only what its system needs.
    CONSENT_CHECK = "consent:check", _("Check consent before sending")
    CONSENT_WRITE = "consent:write", _("Record consent events")
    CONTACTS_WRITE = "contacts:write", _("Create and update contacts, import lists")
    INTERACTIONS_WRITE = "interactions:write", _("Record interactions")
    REQUESTS_WRITE = "requests:write", _("File data-subject requests")
    REQUESTS_READ = "requests:read", _("Read the status of requests it filed")
    SUPPRESSION_CHECK = "suppression:check", _("Check the suppression list")
    WEBHOOKS_MANAGE = "webhooks:manage", _("Manage its webhook subscriptions")


def validate_scopes(value: Any) -> None:
    if not isinstance(value, list) or any(s not in Scope.values for s in value):
        raise ValidationError(_("Scopes must be a list of known scopes."))


def validate_networks(value: Any) -> None:
    if not isinstance(value, list):
        raise ValidationError(_("Allowed networks must be a list."))
    for network in value:
        try:
            ipaddress.ip_network(str(network), strict=False)
        except ValueError:
            raise ValidationError(_("Not a network in CIDR notation: %(n)s"), params={"n": network}) from None


def _default_rate_limit() -> int:
    return settings.API_DEFAULT_RATE_LIMIT


class ApiClient(models.Model):
    """One system that talks to Personvern (the CRM, the mail tool, the website)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The staff member answerable for this system's use of the API."),
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True, validators=[validate_scopes])
    allowed_networks = models.JSONField(
        _("allowed networks"),
        default=list,
        blank=True,
        validators=[validate_networks],
        help_text=_("CIDR networks the client may call from; empty: any."),
    )
    rate_limit = models.PositiveIntegerField(
        _("calls per minute"), default=_default_rate_limit, help_text=_("Shared by every web process.")
    )
    # Art. 19: the recipient code (rights.vocabulary) this system receives personal data as,
    # so that its webhook subscription tells it of erasures and corrections.
    recipient = models.CharField(_("recipient code"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self) -> str:
        return self.name

    # DRF treats the authenticated principal as request.user.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


# djangorestframework-api-key's generator: an 8-character prefix to find the key, a
# 32-character random secret, stored as a SHA-512 hash and compared in constant time.
KEY_GENERATOR = KeyGenerator()


class ApiKey(models.Model):
    """A key of a client: shown once at creation, stored only as prefix + hash.

    A client has several keys during a rotation: the old one keeps working until
    its ``expires_at``; revoking takes effect on the next call.
    """

    client = models.ForeignKey(
        ApiClient, verbose_name=_("client"), on_delete=models.CASCADE, related_name="keys"
    )
    prefix = models.CharField(_("prefix"), max_length=8, unique=True, editable=False)
    hashed_key = models.CharField(max_length=150, editable=False)
    created = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @property
    def has_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def matches(self, key: str) -> bool:
        return KEY_GENERATOR.verify(key, self.hashed_key)


class IdempotentAnswer(models.Model):
    """The first answer to a POST with an ``Idempotency-Key``, returned again for a repeat."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and body: the same key with another request is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    body = models.JSONField(null=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("idempotent answer")
        verbose_name_plural = _("idempotent answers")
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="idempotent_answer_once")]
        indexes = [models.Index(fields=["created_at"], name="idempotent_answer_age_idx")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key[:20]}"


class ImportJob(models.Model):
    """A bulk contact import sent through the API, run by a Celery task."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        REJECTED = "rejected", _("Rejected: nothing was written")

    class Format(models.TextChoices):
        NDJSON = "ndjson", "NDJSON"
        CSV = "csv", "CSV"

    client = models.ForeignKey(
        ApiClient, verbose_name=_("client"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    format = models.CharField(_("format"), max_length=6, choices=Format.choices)
    source_type = models.CharField(_("source type"), max_length=20)
    source_name = models.CharField(_("source"), max_length=200, blank=True)
    source_attests_consent = models.BooleanField(_("source attests consent to sharing"), default=False)
    # The uploaded rows until the job has run; emptied then (they are personal data).
    payload = models.TextField(blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("contacts created"), default=0)
    updated = models.PositiveIntegerField(_("contacts updated"), default=0)
    organisations_created = models.PositiveIntegerField(_("organisations created"), default=0)
    # [{"row": n, "field": name, "message": text}]: never a value.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")

    def __str__(self) -> str:
        return f"{self.pk} {self.get_status_display()}"


class FiledRequest(models.Model):
    """A data-subject request a client filed: the client may read only its own."""

    client = models.ForeignKey(ApiClient, on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField(
        "requests_dsar.DataSubjectRequest", on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(_("received through"), max_length=20)
    filed_at = models.DateTimeField(_("filed"), default=timezone.now)

    class Meta:
        verbose_name = _("request filed through the API")
        verbose_name_plural = _("requests filed through the API")

    def __str__(self) -> str:
        return str(self.request_id)


# --- Webhooks out ------------------------------------------------------------------------


class WebhookEvent(models.TextChoices):
    SUBJECT_ERASED = "subject.erased", _("A person was erased (Art. 17, 19)")
    SUBJECT_RECTIFIED = "subject.rectified", _("A person's data was corrected (Art. 16, 19)")
    SUBJECT_RESTRICTED = "subject.restricted", _("Use of a person's data was restricted (Art. 18, 19)")
    CONSENT_CHANGED = "consent.changed", _("A consent decision changed")
    SUPPRESSION_ADDED = "suppression.added", _("An address went on the suppression list")
    REQUEST_COMPLETED = "request.completed", _("A data-subject request was completed")


# Events that tell a recipient of a person's data (Art. 19): only subscriptions of a
# recipient that held the person's data receive them.
ART19_EVENTS = frozenset(
    {WebhookEvent.SUBJECT_ERASED, WebhookEvent.SUBJECT_RECTIFIED, WebhookEvent.SUBJECT_RESTRICTED}
)


def validate_events(value: Any) -> None:
    if not isinstance(value, list) or not value or any(e not in WebhookEvent.values for e in value):
        raise ValidationError(_("Choose at least one known event."))


def validate_webhook_url(value: str) -> None:
    if not value.startswith(("https://", "http://")):
        raise ValidationError(_("The URL must start with https:// (or http:// for a local receiver)."))


class WebhookSubscription(models.Model):
    """Where to send which events, signed with which secret (Standard Webhooks)."""

    client = models.ForeignKey(
        ApiClient, verbose_name=_("client"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="webhook_subscriptions",
    )  # fmt: skip
    recipient = models.CharField(
        _("recipient code"), max_length=100, blank=True,
        help_text=_("Art. 19: the recipient of personal data this endpoint belongs to (rights.vocabulary)."),
    )  # fmt: skip
    url = models.URLField(_("URL"), max_length=500, validators=[validate_webhook_url])
    events = models.JSONField(_("events"), default=list, validators=[validate_events])
    # whsec_ + base64 of 32 random bytes. During a rotation the previous secret
    # signs too, until ``previous_secret_until``.
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    # The circuit: after too many failures in a row the endpoint is paused and the
    # privacy officer is told; staff resume it in the admin.
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["url"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one subscription: the outbox row, its attempts, and its fate."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        RETRYING = "retrying", _("Failed; will retry")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Gave up (dead letter)")

    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    event = models.CharField(_("event"), max_length=30, choices=WebhookEvent.choices)
    # webhook-id: the same on every attempt, so the receiver can drop repeats.
    message_id = models.CharField(_("message id"), max_length=40, unique=True)
    # The body to send; emptied once delivered (it may hold the identifiers the
    # recipient knows the person by).
    payload = models.JSONField(_("payload"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    # Art. 19: the request and recipient whose notice a 2xx marks as told.
    request_id = models.BigIntegerField(null=True, blank=True)
    recipient = models.CharField(max_length=100, blank=True)
    contact_ids = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            # The sweep asks for deliveries due, by time.
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due_idx",
                condition=models.Q(status__in=["pending", "sending", "retrying"]),
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.message_id


class WebhookAttempt(models.Model):
    """The delivery log: when, what status came back, how long it took. Never the payload."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    error = models.CharField(_("error"), max_length=100, blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.number}"
