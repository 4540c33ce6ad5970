"""A real worker these tests can stop and start again: the consent app's fixture, reused."""

from __future__ import annotations

from tests.consent.conftest import restartable_worker  # noqa: F401
