from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache

LINK = re.compile(r"https?://\S+/portal/(confirm|s|download)/([A-Za-z0-9_\-]+)/")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    # A private local cache per test: flushing the shared Redis would also drop
    # the Celery queues of the real worker other tests use.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dsar"}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): ...`` runs what the block left for after commit (the eager Celery tasks)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def links(kind: str, outbox=None) -> list[str]:
    """Tokens of the links of one kind ("confirm", "s", "download") in the emails sent, oldest first."""
    found = []
    for message in outbox if outbox is not None else mail.outbox:
        found += [token for k, token in LINK.findall(message.body) if k == kind]
    return found


def last_link(kind: str) -> str:
    tokens = links(kind)
    assert tokens, f"no {kind} link in {len(mail.outbox)} emails"
    return tokens[-1]
