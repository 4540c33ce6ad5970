from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError


class AppendOnlyError(ApplicationError):
    pass


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    # Security (Art. 32): the trail must not be rewritable through the ORM.
    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError(_("Audit events cannot be changed."))

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_("Audit events cannot be deleted."))


class AuditEvent(models.Model):
    """Who did what to which record, and when. Never the values themselves.

    The target is stored as type and id, not as a foreign key, so the event
    outlives the deletion of what it describes (an erased contact's trail
    remains, without the person in it).
    """

    class ActorKind(models.TextChoices):
        STAFF = "staff", _("Staff member")
        API_CLIENT = "api_client", _("API client")
        SUBJECT = "subject", _("The person themselves")
        SYSTEM = "system", _("Scheduled job or command")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=16, choices=ActorKind.choices)
    # A user's primary key, an API client's id or a job's name; never a name or email.
    actor_id = models.CharField(_("actor"), max_length=100, blank=True)
    action = models.CharField(_("action"), max_length=64)
    target_type = models.CharField(_("record type"), max_length=100, blank=True)
    target_id = models.CharField(_("record id"), max_length=64, blank=True)
    changed_fields = models.JSONField(_("changed fields"), default=list, blank=True)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    # The staff member's role(s) when the event happened (reading is audited with it).
    actor_role = models.CharField(_("actor's role"), max_length=200, blank=True, default="")

    # The hash chain (Art. 32: a tamper-evident record; core/audit_chain.py).
    # ``seq`` is the position in the one chain; ``chain_hash`` is SHA-256 over a
    # canonical encoding of this event and ``previous_hash``. The address is
    # personal data that expires: the chain covers only its keyed hash
    # (``ip_hash``), so forgetting the address never breaks the chain.
    seq = models.BigIntegerField(_("position in the chain"), unique=True, editable=False)
    ip_hash = models.CharField(_("keyed hash of the address"), max_length=64, blank=True, default="")
    previous_hash = models.CharField(_("previous event's hash"), max_length=64, blank=True, default="")
    chain_hash = models.CharField(_("hash"), max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            # The contact page and the access report look events up by record.
            models.Index(fields=["target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AppendOnlyError(_("Audit events cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_("Audit events cannot be deleted."))


class AuditChainHead(models.Model):
    """The end of the audit chain: its last position and hash, in one row.

    Writers lock and advance this row in the statement that inserts their event
    (``core.audit_chain.chain_append``), so the head is never read from the
    events table and concurrent writers still keep one chain. It holds nothing
    the chain does not: a missing row is rebuilt from the chain's last event.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seq = models.BigIntegerField(_("last position"), default=0)
    previous_hash = models.CharField(_("previous event's hash"), max_length=64, blank=True, default="")
    chain_hash = models.CharField(_("last hash"), max_length=64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_single_row")]

    def __str__(self) -> str:
        return f"{self.seq} {self.chain_hash}"


class AuditChainVerification(models.Model):
    """One run of ``audit_verify``: whether the chain held, and up to which event.

    The last passing run's head lets the next run notice that events at the end
    of the chain were removed since (a truncation leaves no broken link).
    """

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    ok = models.BooleanField(_("chain intact"))
    events_checked = models.BigIntegerField(_("events checked"), default=0)
    head_seq = models.BigIntegerField(_("last position"), null=True, blank=True)
    head_hash = models.CharField(_("last hash"), max_length=64, blank=True, default="")
    broken_seq = models.BigIntegerField(_("first broken position"), null=True, blank=True)
    problem = models.CharField(_("problem"), max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit chain verification")
        verbose_name_plural = _("audit chain verifications")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'BROKEN'}"


class WorkerHeartbeat(models.Model):
    """Last time a Celery worker ran the heartbeat task; read by /healthz."""

    name = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.name
