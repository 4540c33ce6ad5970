"""Writes of the API app: clients and keys, idempotent answers, import jobs, filed requests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from core.audit import Actor, audit_record
from core.registry import registry
from core.removal import Action, Door, Target, removal_execute

from .models import KEY_GENERATOR, ApiClient, ApiKey, FiledRequest, IdempotentAnswer

# A rotated key keeps working this long beside its successor, so a system can
# switch over without an outage.
DEFAULT_ROTATION_OVERLAP = timedelta(days=7)


# --- Clients and keys ---------------------------------------------------------------


def api_client_create(
    *,
    actor: Actor,
    name: str,
    owner: AbstractBaseUser,
    scopes: list[str],
    allowed_networks: list[str] | None = None,
    rate_limit: int | None = None,
    expires_at: datetime | None = None,
    recipient: str = "",
) -> tuple[ApiClient, str]:
    """Create a client and its first key; the key is returned once and stored only as a hash."""
    client = ApiClient(
        name=name,
        owner=owner,
        scopes=sorted(set(scopes)),
        allowed_networks=list(allowed_networks or []),
        expires_at=expires_at,
        recipient=recipient,
    )
    if rate_limit is not None:
        client.rate_limit = rate_limit
    with transaction.atomic():
        client.full_clean()
        client.save()
        audit_record(
            actor=actor, action="api_client.create", target=client,
            fields=["name", "owner", "scopes", "allowed_networks", "rate_limit", "expires_at", "recipient"],
        )  # fmt: skip
        _key, secret = api_key_issue(client=client, actor=actor)
    return client, secret


def api_key_issue(
    *, client: ApiClient, actor: Actor, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key for the client; the secret is returned once, never stored."""
    secret, prefix, hashed = KEY_GENERATOR.generate()
    with transaction.atomic():
        key = ApiKey.objects.create(client=client, prefix=prefix, hashed_key=hashed, expires_at=expires_at)
        audit_record(actor=actor, action="api_key.issue", target_type="api.apikey", target_id=key.prefix)
    return key, secret


def api_key_rotate(
    *, client: ApiClient, actor: Actor, overlap: timedelta = DEFAULT_ROTATION_OVERLAP
) -> tuple[ApiKey, str]:
    """Issue a new key; the client's other live keys expire after ``overlap``."""
    ends = timezone.now() + overlap
    with transaction.atomic():
        old = ApiKey.objects.select_for_update().filter(client=client, revoked=False)
        for key in old:
            if key.expires_at is None or key.expires_at > ends:
                key.expires_at = ends
                key.save(update_fields=["expires_at"])
        new, secret = api_key_issue(client=client, actor=actor)
        audit_record(actor=actor, action="api_key.rotate", target=client, fields=["keys"])
    return new, secret


def api_key_revoke(*, key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke one key at once (a leaked key)."""
    with transaction.atomic():
        ApiKey.objects.filter(pk=key.pk).update(revoked=True)
        audit_record(actor=actor, action="api_key.revoke", target_type="api.apikey", target_id=key.prefix)
    key.refresh_from_db()
    return key


def api_client_revoke(*, client: ApiClient, actor: Actor) -> ApiClient:
    """Revoke the client and every key of it, at once."""
    with transaction.atomic():
        now = timezone.now()
        ApiClient.objects.filter(pk=client.pk, revoked_at=None).update(revoked_at=now)
        ApiKey.objects.filter(client=client).update(revoked=True)
        audit_record(actor=actor, action="api_client.revoke", target=client, fields=["revoked_at"])
    client.refresh_from_db()
    return client


# --- Idempotency ------------------------------------------------------------------------


def idempotency_claim(*, client: ApiClient, key: str, fingerprint: str) -> tuple[IdempotentAnswer, bool]:
    """The stored answer for (client, key), or a new claim on it (call inside the request's transaction).

    A concurrent twin blocks on the unique index until the first commits, then
    finds its answer; if the first rolled back, the twin's insert goes through.
    """
    try:
        with transaction.atomic():
            answer = IdempotentAnswer.objects.create(client=client, key=key, fingerprint=fingerprint)
        return answer, True
    except IntegrityError:
        return IdempotentAnswer.objects.get(client=client, key=key), False


def idempotency_store(*, answer: IdempotentAnswer, status_code: int, body: Any, location: str = "") -> None:
    plain = json.loads(json.dumps(body, cls=JSONEncoder)) if body is not None else None
    IdempotentAnswer.objects.filter(pk=answer.pk).update(
        status_code=status_code, body=plain, location=location[:500]
    )


def idempotency_forget(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Daily: answers older than a day are forgotten (a retry comes within minutes).

    Through the removal engine like every removal of personal data (Art. 5(1)(e)):
    a bulk consent check's answer lists the addresses it was asked about.
    """
    old = IdempotentAnswer.objects.filter(created_at__lt=timezone.now() - older_than)
    outcome = removal_execute(
        targets=[Target(registry.get(IdempotentAnswer), old, action=Action.DELETE)],
        door=Door.SWEEP, actor=Actor.system("api.idempotency_forget"), reference="older-than-a-day",
        audit_action="api.idempotency_forget",
    )  # fmt: skip
    return outcome.erased.get(IdempotentAnswer._meta.label_lower, 0)


# --- Requests filed by a client ----------------------------------------------------------


def filed_request_record(*, client: ApiClient, request: Any, channel: str) -> FiledRequest:
    """Remember which client filed a request, so that it (and only it) may read its status."""
    filed, _created = FiledRequest.objects.get_or_create(
        request=request, defaults={"client": client, "channel": channel}
    )
    return filed
