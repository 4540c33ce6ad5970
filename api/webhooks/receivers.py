"""Receivers of core.events that queue webhook deliveries (filled in with the webhooks)."""

from __future__ import annotations
