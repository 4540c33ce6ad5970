"""Deadline arithmetic for Art. 12(3): one month from receipt, plus up to two further months.

A period in months ends on the same day of the month as the day it started
from, or on the last day of the month when that day does not exist (31 January
-> 28 or 29 February), as in Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c),
which the GDPR's periods follow. Days are counted in Europe/Oslo, where the
company is: a request received at 00:30 on 1 March in Oslo is received on
1 March, although it is still 28 February in UTC.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

ANSWER_MONTHS = 1
MAX_EXTENSION_MONTHS = 2


def local_date(moment: datetime) -> date:
    return timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE)).date()


def today() -> date:
    return local_date(timezone.now())


def add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def first_deadline(received_at: datetime) -> date:
    """The last day to answer: one month from the day of receipt (Art. 12(3))."""
    return add_months(local_date(received_at), ANSWER_MONTHS)


def latest_extended_deadline(received_at: datetime) -> date:
    """The cap: the first month plus two further months, counted from receipt."""
    return add_months(local_date(received_at), ANSWER_MONTHS + MAX_EXTENSION_MONTHS)


def extended_deadline(received_at: datetime, *, months: int) -> date:
    """The deadline after a total extension of ``months`` further months."""
    return add_months(local_date(received_at), ANSWER_MONTHS + months)


def is_overdue(due_date: date | None, *, on: date | None = None) -> bool:
    return due_date is not None and (on or today()) > due_date
