"""Reads for data-subject rights."""

from __future__ import annotations

from core.registry import registry
from core.validators import normalise_email

from .vocabulary import recipient_label


def recipients_for(*, emails: list[str]) -> list[str]:
    """Codes of the recipients of the person's data, to tell of a rectification or erasure (Art. 19).

    A recipient counts when a model that declares it holds rows of the person
    right now, so call this before an erasure. One ``EXISTS`` query per
    registered model that names a recipient not already found.
    ``vocabulary.recipient_label(code)`` gives the name to show.
    """
    addresses = sorted({normalise_email(e) for e in emails if normalise_email(e)})
    if not addresses:
        return []
    found: set[str] = set()
    for declaration in registry.personal():
        if not declaration.findable or not declaration.recipients:
            continue
        if set(declaration.recipients) <= found:
            continue
        if declaration.rows_for(addresses).exists():
            found.update(declaration.recipients)
    return sorted(found)


def recipients_for_display(*, emails: list[str]) -> list[tuple[str, str]]:
    """(code, name in the active language) of ``recipients_for``."""
    return [(code, recipient_label(code)) for code in recipients_for(emails=emails)]
