"""The doors of /api/v1/: bind the input, call one service or selector, answer.

Each view names the scope its effect needs; errors become problem documents
(api.problems); a POST honours Idempotency-Key (api.base).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.exceptions import NotFound as DrfNotFound
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from consent import machine as consent_machine
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.models import Channel as ConsentChannel
from core import errors as core_errors
from core.validators import normalise_email
from requests_dsar import services as request_services
from subjects import selectors as subject_selectors
from subjects import services as subject_services

from . import imports, selectors, services
from . import serializers as s
from .base import ApiView, client_actor
from .models import Scope
from .problems import Problem, django_validation_errors, invalid_input
from .webhooks import services as webhooks

PROBLEM = OpenApiResponse(
    response=inline_serializer(
        "Problem",
        {
            "type": drf_serializers.CharField(),
            "title": drf_serializers.CharField(),
            "status": drf_serializers.IntegerField(),
            "detail": drf_serializers.CharField(required=False),
            "instance": drf_serializers.CharField(required=False),
            "errors": drf_serializers.ListField(child=drf_serializers.DictField(), required=False),
        },
    ),
    description="RFC 9457 problem document",
)
ERRORS = {
    (code, "application/problem+json"): PROBLEM for code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429)
}
IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="A repeat with the same key returns the first answer and writes nothing again.",
)  # fmt: skip


def _bind(serializer_class: type[drf_serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _unknown_purpose_is_input(error: core_errors.NotFound, field: str = "purpose") -> Problem:
    return invalid_input([{"field": field, "message": error.message}])


def _no_such_contact() -> Problem:
    return Problem(
        status_code=404, kind="not-found",
        detail=_("No contact has this address; push the contact first (POST /api/v1/contacts)."),
    )  # fmt: skip


# --- Consent -----------------------------------------------------------------------------


class ConsentCheckView(ApiView):
    """May we use this address for this purpose now? (The mail tool, before every send.)"""

    required_scopes = {"GET": Scope.CONSENT_CHECK, "POST": Scope.CONSENT_CHECK}
    audit_name = "consent_check"
    reads_only = True

    @extend_schema(
        operation_id="consent_check_one",
        parameters=[
            OpenApiParameter("purpose", OpenApiTypes.STR, required=True),
            OpenApiParameter("email", OpenApiTypes.STR, required=False),
            OpenApiParameter(
                "Personvern-Email",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="The address, kept out of the URL and access logs.",
            ),
        ],
        responses={200: s.ConsentCheckAnswer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        data = {
            "purpose": request.query_params.get("purpose", ""),
            "email": request.headers.get("Personvern-Email") or request.query_params.get("email", ""),
        }
        values = data if _plainly_valid_check_query(data) else _bind(s.ConsentCheckQuery, data)
        try:
            basis = consent_selectors.consent_basis_by_email(
                email=values["email"], purpose_code=values["purpose"]
            )
        except core_errors.NotFound as error:
            raise _unknown_purpose_is_input(error) from None
        # Unknown addresses are "not allowed" and say nothing else.
        return Response({"allowed": basis is not None, "basis": basis})

    @extend_schema(
        operation_id="consent_check_many",
        request=s.ConsentBulkCheckInput,
        parameters=[IDEMPOTENCY],
        responses={200: s.ConsentBulkCheckAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        purpose, emails = _bulk_input(request.data)
        try:
            cleared = consent_selectors.consent_clearances(emails=emails, purpose_code=purpose)
        except core_errors.NotFound as error:
            raise _unknown_purpose_is_input(error) from None
        results = []
        for email in emails:
            basis = cleared.get(normalise_email(email))
            results.append({"email": email, "allowed": basis is not None, "basis": basis})
        return Response({"purpose": purpose, "results": results})


# What ConsentCheckQuery's fields let through unchanged: text without NUL or surrogates,
# with nothing to trim.
_PLAIN_TEXT = re.compile(r"[^\x00\ud800-\udfff]*")


def _plainly_valid_check_query(data: dict[str, str]) -> bool:
    """True when ``ConsentCheckQuery`` would accept ``data`` and return it unchanged.

    The single check runs before every send of the mail tool, and building the serializer
    (a deep copy of its fields) cost as much as the check's own query (issue 10). Input this
    does not vouch for goes through the serializer, so every error reads as before
    (tests/api/test_consent.py compares the two over generated input).
    """
    email, purpose = data["email"], data["purpose"]
    return (
        0 < len(email) <= 254
        and 0 < len(purpose) <= 50
        and email == email.strip()
        and purpose == purpose.strip()
        and _PLAIN_TEXT.fullmatch(email) is not None
        and _PLAIN_TEXT.fullmatch(purpose) is not None
    )


def _bulk_input(data: Any) -> tuple[str, list[str]]:
    """The bulk check's input, validated without a serializer per address (100,000 of them)."""
    errors = []
    if not isinstance(data, dict):
        raise invalid_input(detail=_("Send a JSON object."))
    purpose, emails = data.get("purpose"), data.get("emails")
    if not isinstance(purpose, str) or not purpose or len(purpose) > 50 or "\x00" in purpose:
        errors.append({"field": "purpose", "message": _("Give the purpose's code as text.")})
    if not isinstance(emails, list):
        errors.append({"field": "emails", "message": _("Give the addresses as a list of text.")})
    elif len(emails) > s.BULK_CHECK_MAX:
        errors.append(
            {"field": "emails", "message": _("At most %(n)d addresses per call.") % {"n": s.BULK_CHECK_MAX}}
        )
    else:
        for index, email in enumerate(emails):
            if not isinstance(email, str) or len(email) > 254 or "\x00" in email:
                errors.append(
                    {
                        "field": f"emails.{index}",
                        "message": _("An address is text of at most 254 characters."),
                    }
                )
                if len(errors) >= 20:
                    break
    if errors:
        raise invalid_input(errors)
    return purpose, emails


class ConsentEventView(ApiView):
    """Record a grant, withdrawal or objection with its evidence, as the integration it is."""

    required_scope = Scope.CONSENT_WRITE
    audit_name = "consent_event"

    @extend_schema(
        operation_id="consent_event_record",
        request=s.ConsentEventInput,
        parameters=[IDEMPOTENCY],
        responses={201: s.ConsentEventAnswer, 200: s.ConsentEventAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = _bind(s.ConsentEventInput, request.data)
        client = request.user
        contact = subject_selectors.contact_by_email(email=values["email"])
        if contact is None:
            raise _no_such_contact()
        # The evidence names the client, where and when the person acted, and the client's
        # own reference. The ledger's channel is always "api" with an integration's
        # authority: a client's word that the person acted in the portal is not the
        # person's confirmed act, so it can never lift the person's own opt-out.
        reference = f"api-client:{client.pk} via:{values['channel']} at:{values['occurred_at'].isoformat()}"
        if values.get("reference"):
            reference += f" ref:{values['reference']}"
        common = {
            "contact": contact,
            "purpose_code": values["purpose"],
            "channel": ConsentChannel.API,
            "authority": consent_machine.INTEGRATION,
            "actor": client_actor(request),
            "ip_address": values.get("ip_address") or None,
            "user_agent": values.get("user_agent", ""),
            "reference": reference[:200],
        }
        try:
            if values["action"] == "grant":
                notice = None
                if values.get("notice_version"):
                    notice = consent_selectors.notice_by_version(version=values["notice_version"])
                event = consent_services.consent_grant(
                    **common, wording=values.get("wording", ""), notice=notice
                )
            elif values["action"] == "withdraw":
                event = consent_services.consent_withdraw(**common)
            else:
                event = consent_services.objection_record(**common)
        except core_errors.NotFound as error:
            field = (
                "notice_version" if values.get("notice_version") and "notice" in error.message else "purpose"
            )
            raise _unknown_purpose_is_input(error, field) from None
        state = None
        purpose_code = event.purpose.code if event is not None else values["purpose"]
        for row in consent_selectors.consent_state_for_contact(contact=contact):
            if row.purpose_code == purpose_code:
                state = row.state
        body = {"recorded": event is not None, "event_id": event.pk if event else None, "state": state}
        return Response(body, status=status.HTTP_201_CREATED if event else status.HTTP_200_OK)


# --- Contacts, imports, interactions --------------------------------------------------------


def _import_problem(error: DjangoValidationError) -> Problem:
    problems = getattr(error, "import_problems", None)
    if problems is None:
        return invalid_input(django_validation_errors(error))
    return invalid_input([{"field": p.field, "message": p.message} for p in problems])


class ContactUpsertView(ApiView):
    """Create or complete a contact by its address (the rules of the import apply)."""

    required_scope = Scope.CONTACTS_WRITE
    audit_name = "contact_upsert"

    @extend_schema(
        operation_id="contact_upsert",
        request=s.ContactInput,
        parameters=[IDEMPOTENCY],
        responses={201: s.ContactAnswer, 200: s.ContactAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = _bind(s.ContactInput, request.data)
        row = {k: str(values.get(k) or "") for k in subject_services.IMPORT_COLUMNS}
        try:
            result = subject_services.contacts_import(
                rows=[row],
                source_type=values["source_type"],
                source_name=values["source_name"],
                source_attests_consent=values["source_attests_consent"],
                actor=client_actor(request),
            )
        except DjangoValidationError as error:
            raise _import_problem(error) from None
        contact = subject_selectors.contact_by_email(email=values["email"])
        body = {"id": contact.pk, "created": bool(result.created), "updated": bool(result.updated)}
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class RawRowsParser(BaseParser):
    """NDJSON or CSV as it came: the import job parses it row by row."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:
        return stream.read() if stream is not None else b""


class ImportCreateView(ApiView):
    """Queue a bulk import of contacts (NDJSON or CSV); follow it at /api/v1/imports/{id}."""

    required_scope = Scope.CONTACTS_WRITE
    audit_name = "import_create"
    parser_classes = [RawRowsParser]

    @extend_schema(
        operation_id="import_create",
        request={"application/x-ndjson": OpenApiTypes.BINARY, "text/csv": OpenApiTypes.BINARY},
        parameters=[
            IDEMPOTENCY,
            OpenApiParameter("source_type", OpenApiTypes.STR, required=True),
            OpenApiParameter("source_name", OpenApiTypes.STR, required=True),
            OpenApiParameter("source_attests_consent", OpenApiTypes.BOOL, required=False),
        ],
        responses={202: s.ImportJobAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        content_type = (request.content_type or "").split(";")[0].strip().lower()
        fmt = imports.FORMATS.get(content_type)
        if fmt is None:
            raise Problem(
                status_code=415, kind="unsupported-media-type",
                detail=_("Send the rows as application/x-ndjson or text/csv."),
            )  # fmt: skip
        params = _bind(s.ImportParams, request.query_params)
        # An empty body parses to {} in DRF; the rows are bytes or nothing.
        content = request.data if isinstance(request.data, bytes) else b""
        job = imports.import_job_create(
            client=request.user, actor=client_actor(request), format=fmt, content=content, **params
        )
        response = Response(imports.job_answer(job), status=status.HTTP_202_ACCEPTED)
        response["Location"] = reverse("api:import_detail", args=[job.pk])
        return response


class ImportDetailView(ApiView):
    required_scope = Scope.CONTACTS_WRITE
    audit_name = "import_read"

    @extend_schema(operation_id="import_read", responses={200: s.ImportJobAnswer, **ERRORS})
    def get(self, request: Request, job_id: int) -> Response:
        job = selectors.import_job_for_client(client=request.user, job_id=job_id)
        if job is None:
            raise DrfNotFound(_("There is no import with this id for this client."))
        return Response(imports.job_answer(job))


class InteractionView(ApiView):
    """Record an interaction; it moves the contact's last interaction, which retention reads."""

    required_scope = Scope.INTERACTIONS_WRITE
    audit_name = "interaction_record"

    @extend_schema(
        operation_id="interaction_record",
        request=s.InteractionInput,
        parameters=[IDEMPOTENCY],
        responses={201: s.InteractionAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = _bind(s.InteractionInput, request.data)
        if values["occurred_at"] > timezone.now() + timedelta(minutes=5):
            # A date in the future would keep the person past their retention (Art. 5(1)(e)).
            raise invalid_input(
                [{"field": "occurred_at", "message": _("An interaction cannot lie in the future.")}]
            )
        contact = subject_selectors.contact_by_email(email=values["email"])
        if contact is None:
            raise _no_such_contact()
        interaction = subject_services.interaction_record(
            contact=contact, kind=values["kind"], occurred_at=values["occurred_at"],
            summary=values.get("summary", ""), actor=client_actor(request),
        )  # fmt: skip
        body = {"id": interaction.pk, "last_interaction_at": contact.last_interaction_at}
        return Response(body, status=status.HTTP_201_CREATED)


# --- Suppression ------------------------------------------------------------------------------


class SuppressionCheckView(ApiView):
    """Which of these addresses may never be emailed? The answer is per position, naming no one."""

    required_scope = Scope.SUPPRESSION_CHECK
    audit_name = "suppression_check"
    reads_only = True

    @extend_schema(
        operation_id="suppression_check",
        request=s.SuppressionCheckInput,
        parameters=[IDEMPOTENCY],
        responses={200: s.SuppressionCheckAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise invalid_input(detail=_("Send a JSON object."))
        _purpose, emails = _bulk_input({"purpose": "suppression", "emails": data.get("emails")})
        return Response({"suppressed": selectors.emails_suppressed(emails=emails)})


# --- Requests ---------------------------------------------------------------------------------


def _request_answer(request_row: Any) -> dict[str, Any]:
    return {
        "reference": request_row.reference,
        "type": request_row.type,
        "status": request_row.status,
        "received_at": request_row.received_at,
        "due_date": request_row.due_date,
        "extended": request_row.is_extended,
        "closed_at": request_row.closed_at,
    }


class RequestFileView(ApiView):
    """File a data-subject request received elsewhere; it enters the same workflow and deadlines."""

    required_scope = Scope.REQUESTS_WRITE
    audit_name = "request_file"

    @extend_schema(
        operation_id="request_file",
        request=s.RequestInput,
        parameters=[IDEMPOTENCY],
        responses={201: s.RequestAnswer, 200: s.RequestAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = _bind(s.RequestInput, request.data)
        actor = client_actor(request)
        # Art. 12(6): where the identity was checked where the request came in, the
        # request is verified at once with that note (its month runs from now) and the
        # person gets a receipt; where it was not ("none"), they get the portal's
        # link to confirm, and the month runs from their confirmation.
        check = values["identity_check"].strip()
        checked = "" if check.lower() in s.NO_IDENTITY_CHECK else f"{values['channel']}: {check}"
        with transaction.atomic():
            submission = request_services.request_submit(
                type=values["type"], email=values["email"], name=values.get("name", ""),
                organisation=values.get("organisation", ""), details=values.get("details", ""),
                language=values["language"], identity_checked=checked, actor=actor,
            )  # fmt: skip
            filed = submission.request
            services.filed_request_record(client=request.user, request=filed, channel=values["channel"])
        response = Response(
            _request_answer(filed),
            status=status.HTTP_201_CREATED if submission.created else status.HTTP_200_OK,
        )
        response["Location"] = reverse("api:request_detail", args=[filed.reference])
        return response


class RequestDetailView(ApiView):
    required_scope = Scope.REQUESTS_READ
    audit_name = "request_read"

    @extend_schema(operation_id="request_read", responses={200: s.RequestAnswer, **ERRORS})
    def get(self, request: Request, reference: str) -> Response:
        found = selectors.filed_request_for_client(client=request.user, reference=reference)
        if found is None:
            raise DrfNotFound(_("There is no request with this reference filed by this client."))
        return Response(_request_answer(found))


# --- Webhook subscriptions ------------------------------------------------------------------


def _subscription_answer(subscription: Any, secret: str | None = None) -> dict[str, Any]:
    body = {
        "id": subscription.pk,
        "url": subscription.url,
        "events": subscription.events,
        "recipient": subscription.recipient,
        "paused": subscription.paused_at is not None,
    }
    if secret:
        body["secret"] = secret
    return body


class WebhookSubscriptionsView(ApiView):
    """A client's own webhook subscriptions; the secret is in the creating answer only."""

    required_scope = Scope.WEBHOOKS_MANAGE
    audit_name = "webhooks"

    @extend_schema(operation_id="webhooks_list", responses={200: s.WebhookSubscriptionList, **ERRORS})
    def get(self, request: Request) -> Response:
        rows = selectors.subscriptions_for_client(client=request.user)
        return Response({"results": [_subscription_answer(row) for row in rows]})

    @extend_schema(
        operation_id="webhooks_subscribe",
        request=s.WebhookSubscriptionInput,
        parameters=[IDEMPOTENCY],
        responses={201: s.WebhookSubscriptionAnswer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        values = _bind(s.WebhookSubscriptionInput, request.data)
        if not values["url"].startswith("https://"):
            # Plain http is for a local receiver that staff set up, not for a client's own endpoint.
            raise invalid_input([{"field": "url", "message": _("The URL must start with https://.")}])
        client = request.user
        # A client receives the Art. 19 events only as the recipient staff named it.
        subscription, secret = webhooks.subscription_create(
            actor=client_actor(request), url=values["url"], events=values["events"], client=client,
            recipient=client.recipient,
        )  # fmt: skip
        return Response(_subscription_answer(subscription, secret), status=status.HTTP_201_CREATED)


class WebhookSubscriptionDetailView(ApiView):
    required_scope = Scope.WEBHOOKS_MANAGE
    audit_name = "webhooks"

    @extend_schema(operation_id="webhooks_unsubscribe", responses={204: None, **ERRORS})
    def delete(self, request: Request, subscription_id: int) -> Response:
        subscription = selectors.subscription_for_client(client=request.user, subscription_id=subscription_id)
        if subscription is None:
            raise DrfNotFound(_("There is no subscription with this id for this client."))
        webhooks.subscription_remove(subscription=subscription, actor=client_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class NotFoundView(ApiView):
    """Every unknown address under /api/: a 404 problem document (after authentication)."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    throttle_classes: list[type] = []
    schema = None

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise DrfNotFound(_("There is no endpoint at this address; see /api/schema/."))

    get = post = put = patch = delete = _not_found
