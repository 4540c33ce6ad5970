"""Keyed hashes and single-use tokens.

Keyed hashes (HMAC-SHA256 with settings.HASH_KEY) let us recognise an address
after the person is erased (suppression list, erasure journal) without keeping
the address. Tokens are handed out once and stored only as a SHA-256 digest,
compared in constant time, so a copy of the database cannot be used to act
as the person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

from .validators import normalise_email


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC of ``value`` for one ``purpose``; the same value hashes differently per purpose."""
    key = f"{settings.HASH_KEY}:{purpose}".encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def email_hash(email: str, *, purpose: str) -> str:
    return keyed_hash(normalise_email(email), purpose=purpose)


def new_token() -> str:
    """A URL-safe random token of 256 bits, given to the person and never stored."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, digest: str) -> bool:
    return hmac.compare_digest(token_digest(token), digest)
