"""Carrying out data-subject rights through the registry of personal data (core.registry).

Every registered model takes part through its declaration in its app's
``personal_data.py``: what is held about a person (Art. 15), what they gave us
(Art. 20), what may be corrected (Art. 16), and how their rows are erased or
anonymised (Art. 17, through the one removal engine, core.removal). Nothing here
names another app's models, so a new model with a declaration is covered without
a change here. One module per right; the public names are re-exported here.
"""

from __future__ import annotations

from .access import access_report_build, portability_export_build
from .erasure import (
    ErasureOutcome,
    contacts_erase,
    contacts_erase_preview,
    job_applications_erase,
    journal_file_append,
    organisations_erase,
    subject_erase,
    subject_erase_preview,
)
from .journal import (
    JOURNAL_FIELDS,
    REPLAY_BATCH,
    ReplayOutcome,
    erasure_journal_export,
    erasure_journal_import,
    erasure_replay,
)
from .rectification import subject_rectify

__all__ = [
    "JOURNAL_FIELDS",
    "REPLAY_BATCH",
    "ErasureOutcome",
    "ReplayOutcome",
    "access_report_build",
    "contacts_erase",
    "contacts_erase_preview",
    "erasure_journal_export",
    "erasure_journal_import",
    "erasure_replay",
    "job_applications_erase",
    "journal_file_append",
    "organisations_erase",
    "portability_export_build",
    "subject_erase",
    "subject_erase_preview",
    "subject_rectify",
]
