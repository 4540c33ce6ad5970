"""Structured logs that never hold personal data, tokens or query strings.

Found broken (issue 11, 7): the web server's access log kept raw link tokens
(they are path segments: confirmation, status, download, unsubscribe) and the
email addresses and names of admin searches (query strings); Django's own
"Not Found: /portal/confirm/<token>/" lines kept tokens too.

Every log line, from our code, Django, Celery and gunicorn, goes through
``scrub``: query strings are dropped, token-like path segments masked, email
addresses and phone numbers replaced. Lines are JSON in production (one object
per line, with the request id), readable text elsewhere. Code logs ids, never
values (STYLE.md); the scrubbing is the safety net for what others log.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse

request_id_var: ContextVar[str] = ContextVar("request_id", default="")

# A link token is 43 URL-safe characters (core.crypto.new_token); anything of 20
# or more such characters in a path segment is treated as a secret.
_TOKEN_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_\-]{20,}(?=/|$|\s|\"|\?)")
_QUERY = re.compile(r"\?[^\s\"']*")
_EMAIL = re.compile(r"[^\s@<>\"'(),;:/?=&]+@[^\s@<>\"'(),;:/?=&]+\.[^\s@<>\"'(),;:/?=&]+")
# Phone numbers: +47 912 34 567, 91234567, 0047-912-34-567 (8 or more digits).
_PHONE = re.compile(r"(?<![\w/.-])\+?\d(?:[ \-.]?\d){7,14}(?![\w/-])")
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9\-]{8,64}")


def mask_path(path: str) -> str:
    """A URL path fit for a log: no query string, no token segments."""
    path = path.split("?", 1)[0]
    return _TOKEN_SEGMENT.sub("[token]", path)


def scrub(text: str) -> str:
    """Remove query strings, tokens, email addresses and phone numbers from a log text."""
    text = _QUERY.sub("?[query]", text)
    text = _TOKEN_SEGMENT.sub("[token]", text)
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub("[phone]", text)


class ScrubFilter(logging.Filter):
    """Rewrites each record's message, arguments included, before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):
            # An event from structlog (wrap_for_formatter): scrub its values, keep its shape.
            record.msg = {k: scrub(v) if isinstance(v, str) else v for k, v in record.msg.items()}
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        # Django attaches the request to request errors; its repr carries the query.
        if hasattr(record, "request"):
            record.request = None
        if record.exc_info and record.exc_info[1] is not None:
            # Exception messages can carry values (a database error quoting a row):
            # the traceback is formatted here, scrubbed, and kept as text.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        request_id = request_id_var.get()
        if request_id:
            record.request_id = request_id
        return True


def _add_request_id(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    request_id = request_id_var.get()
    if request_id:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def _scrub_event(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = scrub(value)
    return event_dict


def _exc_text(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    record = event_dict.get("_record")
    if record is not None and getattr(record, "exc_text", None):
        event_dict["exception"] = record.exc_text
    return event_dict


def formatter(*, json: bool) -> structlog.stdlib.ProcessorFormatter:
    """The one formatter for every handler: JSON in production, text elsewhere."""
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_request_id,
            _exc_text,
        ],
        processors=[
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _scrub_event,
            renderer,
        ],
    )


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    return formatter(json=True)


def text_formatter() -> structlog.stdlib.ProcessorFormatter:
    return formatter(json=False)


def logging_config(*, json: bool, level: str) -> dict[str, Any]:
    """settings.LOGGING for every environment but the tests."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"scrub": {"()": "core.logging.ScrubFilter"}},
        "formatters": {
            "structured": {"()": "core.logging.json_formatter" if json else "core.logging.text_formatter"}
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["scrub"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # runserver's request lines carry query strings; the middleware logs requests instead.
            "django.server": {"handlers": [], "propagate": False},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # Celery gives its task logger (``get_task_logger``) a handler of its own, unscrubbed and
            # not propagating, unless that logger already has one: this one.
            "celery.task": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }


def configure_structlog() -> None:
    """structlog loggers (``structlog.get_logger``) hand their events to the stdlib handlers above."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_request_id,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


class RequestIdMiddleware:
    """Gives every request an id, on every log line of the request and in ``X-Request-ID``.

    An id sent by the proxy is kept when it looks like one, so the proxy's and
    our lines can be joined; otherwise a fresh one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.logger = logging.getLogger("personvern.request")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            # The path without its query and with tokens masked; never who asked.
            self.logger.info(
                "request %s %s %s", request.method, mask_path(request.path), response.status_code
            )
            return response
        finally:
            request_id_var.reset(token)
