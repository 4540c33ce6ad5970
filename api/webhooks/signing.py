"""Standard Webhooks signatures (https://www.standardwebhooks.com/), written here and
verified in the tests with the ``standardwebhooks`` package, which we did not write.

``webhook-signature`` is ``v1,<base64 HMAC-SHA256>`` over ``id.timestamp.body`` with
the secret's bytes (``whsec_`` + base64). During a rotation both secrets sign, the
signatures separated by a space, so a receiver with either secret accepts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def secret_new() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(*, secret: str, message_id: str, timestamp: int, body: str) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    mac = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signed_headers(*, secrets_: list[str], message_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=s, message_id=message_id, timestamp=timestamp, body=body) for s in secrets_
        ),
    }
