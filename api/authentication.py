"""Who is calling: an API key in ``Authorization: Api-Key <prefix>.<secret>``.

The key is found by its prefix and its secret compared as a hash in constant
time (djangorestframework-api-key's generator and SHA-512 hasher: a 190-bit random key needs
no slow password hash, and a check costs microseconds). A revoked or expired
key or client, or a call from outside the client's networks, is refused.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from core.http import client_ip
from core.prepared import execute_prepared

from .models import ApiClient, ApiKey

KEYWORD = "Api-Key"
# last_used_at is written at most this often per client, not on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _sep, key = header.partition(" ")
        if not header or keyword.lower() != KEYWORD.lower():
            return None
        key = key.strip()
        prefix, dot, _secret = key.partition(".")
        if not dot or not prefix or len(key) > 200:
            raise exceptions.AuthenticationFailed(_("The API key is malformed."))
        api_key = _key_by_prefix(prefix)
        # The comparison that decides is the library's constant-time hash check.
        if api_key is None or not api_key.matches(key):
            raise exceptions.AuthenticationFailed(_("The API key is not valid."))
        client = api_key.client
        now = timezone.now()
        if api_key.revoked or client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("The API key has been revoked."))
        if api_key.has_expired or (client.expires_at is not None and client.expires_at <= now):
            raise exceptions.AuthenticationFailed(_("The API key has expired."))
        if client.allowed_networks and not _address_allowed(client_ip(request), client.allowed_networks):
            raise exceptions.PermissionDenied(_("Calls from this network are not allowed for this client."))
        if client.last_used_at is None or client.last_used_at < now - LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return client, api_key

    def authenticate_header(self, request: Request) -> str:
        # A 401 must say how to authenticate (RFC 9110 § 11.6.1).
        return f'{KEYWORD} realm="api"'


def _columns(model: type[Model], alias: str) -> list[str]:
    return [f"{alias}.{connection.ops.quote_name(f.column)}" for f in model._meta.concrete_fields]


# The key and its client in one hand-written statement: it runs on every call, and
# the ORM's compilation of ``select_related`` cost more than the query itself.
_KEY_SQL = (
    f"SELECT {', '.join(_columns(ApiKey, 'k') + _columns(ApiClient, 'c'))} "  # noqa: S608 (names from the models)
    f"FROM {ApiKey._meta.db_table} k JOIN {ApiClient._meta.db_table} c ON c.id = k.client_id "
    "WHERE k.prefix = %s"
)


@cache
def _converters(model: type[Model]) -> list[tuple[Any, list[Any]]]:
    """Per column, what the ORM would apply to it: the backend's conversions, then the field's."""
    found = []
    for f in model._meta.concrete_fields:
        col = f.get_col(model._meta.db_table)
        found.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    return found


def _from_row(model: type[Model], values: tuple) -> Model:
    """A model instance from its columns, converted as the ORM converts them (JSON, SQLite's dates)."""
    converted = []
    for (col, converters), value in zip(_converters(model), values, strict=True):
        for converter in converters:
            value = converter(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], converted)


def _key_by_prefix(prefix: str) -> ApiKey | None:
    with connection.cursor() as cursor:
        # Prepared once per connection: planning the join cost the database three times
        # what running it did, on every call (issue 10; core.prepared.execute_prepared).
        execute_prepared(cursor, name="pv_api_key_by_prefix", sql=_KEY_SQL, params=[prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(ApiKey._meta.concrete_fields)
    api_key = _from_row(ApiKey, row[:split])
    api_key.client = _from_row(ApiClient, row[split:])
    return api_key


def _address_allowed(address: str | None, networks: list[str]) -> bool:
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)
