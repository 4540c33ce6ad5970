from __future__ import annotations

from celery import shared_task

from .services import audit_chain_check, heartbeat_record


@shared_task(ignore_result=True)
def heartbeat(name: str = "worker") -> None:
    heartbeat_record(name=name)


@shared_task(ignore_result=True)
def audit_chain_verify() -> None:
    """Daily (settings.PERIODIC_TASKS): verify the audit chain, anchor its head."""
    audit_chain_check()
