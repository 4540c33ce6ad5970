"""The one removal engine (see ``engine``): erasure, retention and the admin remove personal data here."""

from __future__ import annotations

from .anonymise import ANONYMISED_EMAIL_DOMAIN, CannotAnonymise, anonymise_plan
from .engine import (
    Action,
    Door,
    Target,
    removal_execute,
    removal_preview,
    rows_target,
    subject_targets,
)
from .outcome import ModelOutcome, RemovalOutcome

__all__ = [
    "ANONYMISED_EMAIL_DOMAIN",
    "Action",
    "CannotAnonymise",
    "Door",
    "ModelOutcome",
    "RemovalOutcome",
    "Target",
    "anonymise_plan",
    "removal_execute",
    "removal_preview",
    "rows_target",
    "subject_targets",
]
