"""Staff downloads of a person's data: each behind its own permission, each recorded."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.audit import Actor, audit_record
from core.permissions import DOWNLOAD_ACCESS_ANSWER, user_may
from requests_dsar.models import DataSubjectRequest


@never_cache
@require_GET
@staff_member_required
def access_answer_download(request: HttpRequest, pk: int) -> FileResponse:
    """The prepared answer to an access request (Art. 15(3)), for the staff who check it before it goes.

    The zip is the person's whole file: only who may download it gets it (not an
    auditor, who reads the request but takes no one's data home), and the
    download is itself recorded (Art. 32).
    """
    if not user_may(request, DOWNLOAD_ACCESS_ANSWER):
        raise PermissionDenied
    dsar = get_object_or_404(DataSubjectRequest, pk=pk, redacted_at__isnull=True)
    if not dsar.answer_file:
        raise Http404
    try:
        handle = dsar.answer_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit_record(
        actor=Actor.from_request(request), action="dsar.staff_download", target=dsar, fields=["answer_file"]
    )
    response = FileResponse(handle, as_attachment=True, filename=f"{dsar.reference}.zip")
    response["Content-Type"] = "application/zip"
    return response
