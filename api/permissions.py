"""Scopes: each view names the scope its effect needs (least privilege)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .models import ApiClient


class HasScope(BasePermission):
    """The client must hold the view's ``required_scope`` (or the one for the method)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        client = request.user
        if not isinstance(client, ApiClient):
            return False
        method = "GET" if request.method == "HEAD" else request.method
        if method == "OPTIONS" or not hasattr(view, method.lower()):
            return True  # OPTIONS describes; an unsupported method is answered 405
        required = getattr(view, "required_scopes", {}).get(method) or getattr(view, "required_scope", None)
        if required is None:
            # A view that forgot to name its scope is closed, not open.
            return False
        if required not in client.scopes:
            self.message = _("This client lacks the scope %(scope)s.") % {"scope": required}
            return False
        return True
