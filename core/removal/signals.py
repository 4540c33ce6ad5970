"""Signals of the removal engine.

The engine writes set-based (``QuerySet.update`` and raw deletes), so Django's
``post_save`` and ``post_delete`` never fire for what it removes. An app that keeps
something derived from rows the engine may remove (the consent check's stored
decision, say) listens here instead.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``sender`` the model, ``rows`` a queryset of the rows about to be emptied
# or deleted, and ``door`` and ``actor`` (who asked for the removal), inside the
# removal's transaction and never in a dry run. A receiver may return a callable: the
# engine runs it after every row has gone, still inside the same transaction, so what
# is derived moves with what it derives from.
rows_removing = Signal()
