"""Fixtures of the accountability tests."""

from __future__ import annotations

import pytest

from tests.consent.conftest import restartable_worker  # noqa: F401  (a real worker to stop and resume)


@pytest.fixture(autouse=True)
def _staff_pages_in_english(settings):
    """Pages answer in English unless a test asks for bokmål (Accept-Language), so assertions read plainly."""
    settings.LANGUAGE_CODE = "en"
