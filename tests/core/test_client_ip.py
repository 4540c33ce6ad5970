"""The client's address behind a proxy: only our proxies' X-Forwarded-For entries count."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.http import client_ip

rf = RequestFactory()


def _ip(remote: str, forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(rf.get("/", **meta))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert _ip("198.51.100.7", "203.0.113.9") == "198.51.100.7"


def test_behind_a_trusted_proxy_the_client_is_the_address_it_saw(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("10.0.0.2", "203.0.113.9") == "203.0.113.9"


def test_a_forged_leftmost_entry_is_not_believed(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client sent "1.2.3.4" itself; our proxy appended the real peer.
    assert _ip("10.0.0.2", "1.2.3.4, 203.0.113.9") == "203.0.113.9"


def test_a_chain_of_trusted_proxies_is_walked(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "172.16.0.0/12"]
    assert _ip("10.0.0.2", "203.0.113.9, 172.16.0.5") == "203.0.113.9"


def test_an_untrusted_peer_is_the_client_whatever_it_sends(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("198.51.100.7", "10.0.0.9") == "198.51.100.7"


@pytest.mark.parametrize("remote", ["", "not-an-ip", "\x00"])
def test_no_address_is_invented(settings, remote):
    settings.TRUSTED_PROXIES = []
    assert _ip(remote) is None


def test_garbage_in_the_header_stops_the_walk(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("10.0.0.2", "203.0.113.9, garbage") == "10.0.0.2"


def test_ipv6_and_ports(settings):
    settings.TRUSTED_PROXIES = ["::1/128"]
    assert _ip("::1", "[2001:db8::5]:4431") == "2001:db8::5"
