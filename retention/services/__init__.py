"""Writes: policies, legal holds, and the sweep that enforces them.

The sweep (``retention_sweep``) takes a lease on a lock row, then for each
enabled policy: checks the safety valve, and removes what is due in batches.
Each batch is one transaction that claims its rows (``FOR UPDATE SKIP LOCKED``
on PostgreSQL), records the statistics, hands the rows to the removal engine
(core.removal) and adds to the run's counters, so a run stopped at any moment
has lost nothing and repeats nothing: the next run finds exactly what is still
due. One module per part; the public names are re-exported here.
"""

from __future__ import annotations

from ..errors import LockLost, SweepBusy
from .batches import BatchResult, sweep_batch
from .lock import LOCK_NAME, sweep_lock_claim, sweep_lock_release, sweep_lock_renew
from .policies import legal_hold_lift, legal_hold_place, legal_hold_update, policy_create, policy_update
from .statistics import statistics_roll_up
from .sweep import SweepOutcome, policy_sweep, retention_sweep, sweep_skipped_record

__all__ = [
    "LOCK_NAME",
    "BatchResult",
    "LockLost",
    "SweepBusy",
    "SweepOutcome",
    "legal_hold_lift",
    "legal_hold_place",
    "legal_hold_update",
    "policy_create",
    "policy_sweep",
    "policy_update",
    "retention_sweep",
    "statistics_roll_up",
    "sweep_batch",
    "sweep_lock_claim",
    "sweep_lock_release",
    "sweep_lock_renew",
    "sweep_skipped_record",
]
