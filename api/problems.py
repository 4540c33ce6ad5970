"""Every error of the API as an RFC 9457 problem document.

``type`` names the problem (a URN per kind), ``title`` says it in words, ``detail``
tells the developer what to change, ``errors`` lists input problems by field
(and row, for imports). Never a stack trace and never personal data: messages
name the rule and the field, not the value.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response

from core import errors as core_errors

logger = logging.getLogger("api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:personvern:problem:"


class Problem(exceptions.APIException):
    """A problem a view raises itself, with a kind and the HTTP status it maps to."""

    def __init__(
        self, *, status_code: int, kind: str, detail: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail=detail)
        self.status_code = status_code
        self.kind = kind
        self.errors = errors or []


def invalid_input(errors: list[dict[str, Any]] | None = None, *, detail: str = "") -> Problem:
    """The 400 of bad input: what to correct by field (the rule, never the value), or one
    ``detail`` when the body as a whole is wrong. Every door of the API raises this one."""
    return Problem(
        status_code=status.HTTP_400_BAD_REQUEST,
        kind="invalid-input",
        detail=detail or _("Correct the fields listed in errors and send the request again."),
        errors=errors,
    )


class PayloadTooLarge(Problem):
    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            kind="payload-too-large",
            detail=_("The request body is larger than %(n)d bytes; send it in parts.") % {"n": limit},
        )


_KINDS: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "malformed-body",
    exceptions.AuthenticationFailed: "unauthenticated",
    exceptions.NotAuthenticated: "unauthenticated",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not-found",
    exceptions.MethodNotAllowed: "method-not-allowed",
    exceptions.NotAcceptable: "not-acceptable",
    exceptions.UnsupportedMediaType: "unsupported-media-type",
    exceptions.Throttled: "rate-limited",
}

_TITLES = {
    "malformed-body": lambda: _("The request body could not be parsed"),
    "unauthenticated": lambda: _("Not authenticated"),
    "forbidden": lambda: _("Not allowed"),
    "not-found": lambda: _("Not found"),
    "method-not-allowed": lambda: _("Method not allowed"),
    "not-acceptable": lambda: _("Not acceptable"),
    "unsupported-media-type": lambda: _("Unsupported media type"),
    "rate-limited": lambda: _("Too many requests"),
    "invalid-input": lambda: _("The input is not valid"),
    "payload-too-large": lambda: _("The request body is too large"),
    "conflict": lambda: _("Conflict with the current state"),
    "rule-broken": lambda: _("A rule does not allow this"),
    "idempotency-key-reused": lambda: _("The Idempotency-Key was used for another request"),
    "server-error": lambda: _("Something went wrong on our side"),
}


def problem_response(
    *,
    status_code: int,
    kind: str,
    detail: str,
    instance: str = "",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    title = _TITLES.get(kind, lambda: _("Error"))()
    body: dict[str, Any] = {"type": TYPE_PREFIX + kind, "title": str(title), "status": status_code}
    if detail:
        body["detail"] = str(detail)
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def field_errors(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """DRF's nested error detail as a flat list of {"field": "a.b", "message": ...}."""
    found: list[dict[str, Any]] = []
    if isinstance(detail, dict):
        for name, value in detail.items():
            field = f"{prefix}.{name}" if prefix else str(name)
            if name in ("non_field_errors", "__all__"):
                field = prefix
            found += field_errors(value, field)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            found += [{"field": prefix, "message": str(item)} for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    found += field_errors(item, f"{prefix}.{index}" if prefix else str(index))
    else:
        found.append({"field": prefix, "message": str(detail)})
    return found


def django_validation_errors(error: DjangoValidationError) -> list[dict[str, Any]]:
    if hasattr(error, "error_dict"):
        return [
            {"field": "" if name == "__all__" else name, "message": str(message)}
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"field": "", "message": str(message)} for message in error.messages]


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception of an API view becomes a problem document."""
    request = context.get("request")
    instance = request.path if request is not None else ""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("There is nothing at this address, or not for this client."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.ValidationError):
        exc = invalid_input(field_errors(exc.detail))
    elif isinstance(exc, DjangoValidationError):
        exc = invalid_input(django_validation_errors(exc))

    if isinstance(exc, Problem):
        return problem_response(
            status_code=exc.status_code, kind=exc.kind, detail=str(exc.detail), instance=instance,
            errors=exc.errors,
        )  # fmt: skip
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, exceptions.Throttled):
            headers["Retry-After"] = str(max(1, round(exc.wait or 1)))
        kind = next((k for cls, k in _KINDS.items() if isinstance(exc, cls)), "invalid-input")
        detail = str(exc.detail) if not isinstance(exc.detail, (list, dict)) else ""
        if isinstance(exc, exceptions.Throttled):
            detail = _("This client has used up its calls for this minute; retry after %(s)s seconds.") % {
                "s": headers["Retry-After"]
            }
        return problem_response(
            status_code=exc.status_code, kind=kind, detail=detail, instance=instance, headers=headers
        )
    if isinstance(exc, core_errors.NotFound):
        return problem_response(status_code=404, kind="not-found", detail=exc.message, instance=instance)
    if isinstance(exc, core_errors.Conflict):
        return problem_response(status_code=409, kind="conflict", detail=exc.message, instance=instance)
    if isinstance(exc, core_errors.ApplicationError):
        return problem_response(status_code=422, kind="rule-broken", detail=exc.message, instance=instance)
    # A bug: the log gets the exception's type and the view, never the message
    # (it may hold personal data); the client a problem without a stack trace.
    view = context.get("view")
    logger.error(
        "api.unhandled %s in %s", type(exc).__name__, type(view).__name__ if view else "?",
        exc_info=False,
    )  # fmt: skip
    return problem_response(
        status_code=500, kind="server-error",
        detail=_("The error was logged; try again later or tell the Personvern team."), instance=instance,
    )  # fmt: skip
