"""Deadline reminders to the assignee (Art. 12(3)), each claimed so it is sent once."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone

from core.audit import Actor
from core.mail import send_email

from .. import deadlines
from .base import Action, Request, _event, _setting


def requests_remind(*, on: date | None = None) -> dict[str, int]:
    """Remind assignees of deadlines coming up, and daily of overdue requests.

    Each reminder is claimed by a conditional UPDATE, so running the job twice
    sends nothing twice.
    """
    on = on or deadlines.today()
    soon = on + timedelta(days=_setting("DSAR_REMIND_DAYS_BEFORE", 5))
    open_ = Request.objects.filter(status__in=Request.OPEN)
    sent = {"due_soon": 0, "overdue": 0}
    for pk in open_.filter(due_date__gte=on, due_date__lte=soon, reminded_due_soon_at=None).values_list(
        "pk", flat=True
    ):
        if Request.objects.filter(pk=pk, reminded_due_soon_at=None).update(
            reminded_due_soon_at=timezone.now()
        ):
            _remind(pk, overdue=False)
            sent["due_soon"] += 1
    overdue = open_.filter(due_date__lt=on).exclude(reminded_overdue_on=on)
    for pk in overdue.values_list("pk", flat=True):
        claimed = Request.objects.filter(pk=pk).exclude(reminded_overdue_on=on).update(reminded_overdue_on=on)
        if claimed:
            _remind(pk, overdue=True)
            sent["overdue"] += 1
    return sent


def _remind(pk: int, *, overdue: bool) -> None:
    request = Request.objects.select_related("assignee").get(pk=pk)
    to = (
        request.assignee.email
        if request.assignee and request.assignee.email
        else settings.PRIVACY_OFFICER_EMAIL
    )
    from django.urls import reverse

    send_email(
        "dsar-reminder",
        {
            "request": request,
            "overdue": overdue,
            "admin_url": settings.SITE_URL
            + reverse("admin:requests_dsar_datasubjectrequest_change", args=[pk]),
        },
        to=to,
        language=settings.LANGUAGE_CODE,
    )
    _event(
        request, Action.REMINDED, Actor.system("dsar.reminders"), note="overdue" if overdue else "due soon"
    )
