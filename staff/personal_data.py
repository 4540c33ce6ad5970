from __future__ import annotations

from core.registry import registry

from .models import StaffPermission

registry.register_not_personal(StaffPermission, reason="No rows: only the holder of custom permissions.")
