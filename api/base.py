"""The base of every API view: body limit, Idempotency-Key, and the audit of each call."""

from __future__ import annotations

import hashlib
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.audit import Actor, audit_record, audit_record_read
from core.http import client_ip

from . import services
from .models import ApiClient
from .problems import PROBLEM_CONTENT_TYPE, PayloadTooLarge, Problem, invalid_input

IDEMPOTENCY_HEADER = "Idempotency-Key"


class IdempotentReplay(Exception):
    """Raised in ``initial`` to answer a repeat with the first answer."""

    def __init__(self, response: Response) -> None:
        self.response = response


def client_actor(request: Request) -> Actor:
    client = request.user
    return Actor.api_client(str(client.pk), client_ip(request))


class ApiView(APIView):
    """Every endpoint of /api/v1/ derives from this.

    - the body is read once, up to ``API_MAX_BODY_BYTES`` (413 beyond), so a
      huge upload is refused before it is parsed;
    - a POST with ``Idempotency-Key`` runs in one transaction with the record of
      its answer: a repeat gets the first answer and writes nothing, a
      concurrent twin waits for the first and then gets its answer;
    - every authenticated call leaves an audit event with the client as actor.
    """

    # The action name in the audit trail ("api.<audit_name>").
    audit_name = "call"
    # True for a view whose POST only asks (a bulk check): its calls write nothing but the
    # audit event. GET and HEAD are reads anyway.
    reads_only = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" and request.headers.get(IDEMPOTENCY_HEADER):
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._read_body(request)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method == "POST" and key:
            self._claim(request, key)

    def _read_body(self, request: Request) -> None:
        raw: HttpRequest = request._request
        if hasattr(raw, "_body"):
            return
        try:
            length = int(raw.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.API_MAX_BODY_BYTES
        if length > limit:
            raise PayloadTooLarge(limit)
        # Read it ourselves: Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is for
        # the portal's forms; the API has its own, larger limit.
        body = raw.read(length) if length else b""
        raw._body = body
        raw._stream = BytesIO(body)

    def _claim(self, request: Request, key: str) -> None:
        if len(key) > 255 or not key.isprintable():
            raise invalid_input(detail=_("The Idempotency-Key must be at most 255 printable characters."))
        digest = hashlib.sha256()
        digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
        digest.update(request._request._body)
        answer, first = services.idempotency_claim(
            client=request.user, key=key, fingerprint=digest.hexdigest()
        )
        if not first:
            if answer.fingerprint != digest.hexdigest():
                raise Problem(
                    status_code=422, kind="idempotency-key-reused",
                    detail=_("This Idempotency-Key was used with another request; use a new key."),
                )  # fmt: skip
            headers = {"Idempotent-Replayed": "true"}
            if answer.location:
                headers["Location"] = answer.location
            content_type = PROBLEM_CONTENT_TYPE if answer.status_code >= 400 else None
            raise IdempotentReplay(
                Response(answer.body, status=answer.status_code, headers=headers, content_type=content_type)
            )
        self._idempotent_answer = answer

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, IdempotentReplay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        answer = getattr(self, "_idempotent_answer", None)
        if answer is not None:
            if response.status_code >= 500:
                # Nothing is kept of a failed attempt, so a retry really runs again.
                transaction.set_rollback(True)
            else:
                services.idempotency_store(
                    answer=answer,
                    status_code=response.status_code,
                    body=getattr(response, "data", None),
                    location=response.get("Location", ""),
                )
        client = getattr(request, "user", None)
        if isinstance(client, ApiClient) and response.status_code < 500:
            # A call that changed nothing is audited without waiting for the disk (see
            # core.audit.audit_record_read); a call that wrote is audited durably.
            reads = request.method in SAFE_METHODS or self.reads_only
            (audit_record_read if reads else audit_record)(
                actor=client_actor(request),
                action=f"api.{self.audit_name}",
                target_type="api.apiclient",
                target_id=client.pk,
            )
        return response
