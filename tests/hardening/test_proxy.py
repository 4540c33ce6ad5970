"""Found broken 8: behind the documented proxy every client is itself, for rate limits and the audit trail."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core.models import AuditEvent

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.5"  # docker-compose's network, inside TRUSTED_PROXIES=172.16.0.0/12


@pytest.fixture(autouse=True)
def _behind_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["172.16.0.0/12"]
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "px"}
    }
    cache.clear()
    yield
    cache.clear()


def _submit(client, n: int, forwarded_for: str):
    return client.post(
        "/portal/request/",
        {"type": "access", "email": f"person{n}@firma.no"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_twelve_clients_through_the_proxy_are_twelve_clients(client):
    addresses = [f"198.51.100.{n}" for n in range(1, 13)]
    statuses = [_submit(client, n, ip).status_code for n, ip in enumerate(addresses)]
    assert 429 not in statuses, statuses
    recorded = set(AuditEvent.objects.exclude(ip_address=None).values_list("ip_address", flat=True))
    assert set(addresses) <= recorded
    assert PROXY not in recorded and "127.0.0.1" not in recorded


def test_one_client_through_the_proxy_is_still_limited(client, settings):
    limit, _ = settings.DSAR_RATE_LIMITS["submit_ip"]
    statuses = [_submit(client, n, "198.51.100.77").status_code for n in range(limit + 1)]
    assert statuses[-1] == 429 and 429 not in statuses[:-1]


def test_a_forged_header_from_outside_the_proxy_is_ignored(client, settings):
    limit, _ = settings.DSAR_RATE_LIMITS["submit_ip"]
    statuses = [
        client.post(
            "/portal/request/", {"type": "access", "email": f"p{n}@firma.no"},
            REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in range(limit + 1)
    ]  # fmt: skip
    assert statuses[-1] == 429
    assert set(AuditEvent.objects.exclude(ip_address=None).values_list("ip_address", flat=True)) == {
        "203.0.113.50"
    }


def test_docker_compose_trusts_its_proxy_network():
    from pathlib import Path

    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    assert "TRUSTED_PROXIES" in compose
