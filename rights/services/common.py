"""What every right needs: the person's addresses, and a zip to hand them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.validators import normalise_email


def _addresses(emails: Iterable[str]) -> list[str]:
    """The person's addresses, normalised and without duplicates; at least one."""
    found = sorted({normalise_email(e) for e in emails if normalise_email(e)})
    if not found:
        raise ValidationError(_("Give at least one email address."), code="no_email")
    return found


def _zip(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()
