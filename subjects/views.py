from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from core.audit import Actor, audit_record
from core.permissions import DOWNLOAD_APPLICATION_DOCUMENT, user_may

from .models import ApplicationDocument


@require_GET
@staff_member_required
def application_document(request: HttpRequest, pk: int) -> FileResponse:
    """Serve an applicant's document to staff who may download it (recruiters, the privacy officer).

    Seeing that an application exists is not enough: an auditor reads everything
    but takes no one's data home (Art. 5(1)(f), Art. 32).
    """
    if not user_may(request, DOWNLOAD_APPLICATION_DOCUMENT):
        raise PermissionDenied
    document = get_object_or_404(ApplicationDocument, pk=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit_record(actor=Actor.from_request(request), action="application_document.view", target=document)
    # Always a download, never rendered inline: the file came from outside.
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"document-{document.pk}.{document.file.name.rsplit('.', 1)[-1]}",
    )
