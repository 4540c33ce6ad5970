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
