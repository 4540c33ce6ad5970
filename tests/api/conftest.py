"""Fixtures of the API tests: clients with chosen scopes, and a caller that sends their key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from api import services
from api.models import ApiClient, Scope
from core.audit import Actor

ALL_SCOPES = list(Scope.values)


@dataclass
class Caller:
    """An HTTP client that sends one API key (a system calling us)."""

    api_client: ApiClient
    key: str
    http: Client

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        # Problem details follow Accept-Language (bokmål by default, as the site).
        return {"Authorization": f"Api-Key {self.key}", "Accept-Language": "en", **(headers or {})}

    def get(self, path: str, data: Any = None, headers: dict[str, str] | None = None, **kw: Any):
        return self.http.get(path, data, headers=self._headers(headers), **kw)

    def post(self, path: str, data: Any = None, headers: dict[str, str] | None = None, **kw: Any):
        kw.setdefault("content_type", "application/json")
        return self.http.post(path, data, headers=self._headers(headers), **kw)


@pytest.fixture
def make_caller(db, staff_user) -> Callable[..., Caller]:
    def make(scopes: list[str] | None = None, **options: Any) -> Caller:
        name = options.pop("name", f"system-{ApiClient.objects.count() + 1}")
        client, key = services.api_client_create(
            actor=Actor.system("test"), name=name, owner=staff_user,
            scopes=ALL_SCOPES if scopes is None else scopes, **options,
        )  # fmt: skip
        return Caller(client, key, Client())

    return make


@pytest.fixture
def caller(make_caller) -> Caller:
    """A client with every scope."""
    return make_caller()


def assert_problem(response, status: int, kind: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with this status."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:personvern:problem:")
    assert body["title"]
    if kind:
        assert body["type"] == f"urn:personvern:problem:{kind}"
    assert "Traceback" not in response.content.decode()
    return body
