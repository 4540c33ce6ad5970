from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from config.celery_app import app as celery_app

from .models import AuditChainVerification, WorkerHeartbeat


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def broker_answers(timeout: float = 2.0) -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
            return True
    except Exception:
        return False


def health_status() -> dict[str, Any]:
    database = database_answers()
    broker = broker_answers()
    heartbeat = None
    if database:
        beat = WorkerHeartbeat.objects.filter(name="worker").first()
        heartbeat = beat.seen_at.isoformat() if beat else None
    return {
        "status": "ok" if database and broker else "unavailable",
        "database": "ok" if database else "down",
        "broker": "ok" if broker else "down",
        # Informational: the worker is not needed to serve requests.
        "worker_last_seen": heartbeat,
    }


def audit_chain_last_verified() -> datetime | None:
    """When ``audit_verify`` last found the chain intact (the dashboard and the admin show it)."""
    return AuditChainVerification.objects.filter(ok=True).order_by("-at").values_list("at", flat=True).first()


def audit_chain_last_verification() -> AuditChainVerification | None:
    return AuditChainVerification.objects.order_by("-at", "-id").first()
