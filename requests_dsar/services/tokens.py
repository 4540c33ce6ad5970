"""The links we email: issued once, stored only as a digest, single use where they confirm."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from core.crypto import new_token, token_digest, token_matches

from ..errors import LinkExpired, LinkInvalid, LinkUsed
from ..models import RequestToken
from .base import Request, _setting


def link_lifetime(purpose: str) -> timedelta:
    if purpose == RequestToken.Purpose.VERIFY:
        return timedelta(hours=_setting("DSAR_VERIFY_LINK_HOURS", 48))
    if purpose == RequestToken.Purpose.DOWNLOAD:
        return timedelta(hours=_setting("DSAR_DOWNLOAD_LINK_HOURS", 72))
    return timedelta(days=_setting("DSAR_STATUS_LINK_DAYS", 120))


def request_token_issue(*, request: Request, purpose: str) -> str:
    """A new link for the person: the token is returned once and stored only as its digest."""
    token = new_token()
    RequestToken.objects.create(
        request=request,
        purpose=purpose,
        digest=token_digest(token),
        expires_at=timezone.now() + link_lifetime(purpose),
    )
    return token


def _token_row(token: str, purpose: str, *, lock: bool = False) -> RequestToken:
    if not token or len(token) > 100:
        raise LinkInvalid(_("This link is not valid. Please use the newest link we sent you."))
    rows = RequestToken.objects.select_related("request")
    if lock:
        # The link and its request, locked in one statement (the request as committed
        # last, since PostgreSQL rereads a row it had to wait for).
        rows = rows.select_for_update(of=("self", "request"))
    row = rows.filter(digest=token_digest(token), purpose=purpose).first()
    # The lookup is by digest; the comparison that decides is constant time.
    if row is None or not token_matches(token, row.digest):
        raise LinkInvalid(_("This link is not valid. Please use the newest link we sent you."))
    if row.used_at is not None:
        raise LinkUsed(_("This link has already been used. Each confirmation link works only once."))
    if row.expires_at <= timezone.now():
        raise LinkExpired(_("This link has expired. Please ask again, and we will send you a new link."))
    return row


def request_link_check(*, token: str, purpose: str) -> Request:
    """The request a link leads to, without using the link up."""
    return _token_row(token, purpose).request
