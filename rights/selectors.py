"""Reads for data-subject rights."""

from __future__ import annotations

from core.registry import registry
from core.removal.sql import exists_each
from core.validators import normalise_email

from .vocabulary import recipient_label


def recipients_for(*, emails: list[str]) -> list[str]:
    """Codes of the recipients of the person's data, to tell of a rectification or erasure (Art. 19).

    A recipient counts when a model that declares it holds rows of the person
    right now, so call this before an erasure. One ``EXISTS`` query per
    registered model that names a recipient, all in one statement.
    ``vocabulary.recipient_label(code)`` gives the name to show.
    """
    addresses = sorted({normalise_email(e) for e in emails if normalise_email(e)})
    if not addresses:
        return []
    declarations = [d for d in registry.personal() if d.findable and d.recipients]
    holding = exists_each(d.rows_for(addresses) for d in declarations)
    found = {code for d, there in zip(declarations, holding, strict=True) if there for code in d.recipients}
    return sorted(found)


def recipients_for_display(*, emails: list[str]) -> list[tuple[str, str]]:
    """(code, name in the active language) of ``recipients_for``."""
    return [(code, recipient_label(code)) for code in recipients_for(emails=emails)]
