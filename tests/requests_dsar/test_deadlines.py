"""Art. 12(3) deadline arithmetic: one month from receipt in Oslo, month ends, leap days, the cap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from core.audit import Actor
from requests_dsar import deadlines
from requests_dsar.errors import DeadlineRuleBroken
from requests_dsar.services import request_extend

from .factories import RequestFactory

OSLO = ZoneInfo("Europe/Oslo")


def oslo(*args: int) -> datetime:
    return datetime(*args, tzinfo=OSLO)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (oslo(2026, 1, 15, 12), date(2026, 2, 15)),
        (oslo(2026, 1, 31, 12), date(2026, 2, 28)),  # no 31 February: the month's last day
        (oslo(2028, 1, 31, 12), date(2028, 2, 29)),  # leap year
        (oslo(2028, 2, 29, 12), date(2028, 3, 29)),  # from a leap day
        (oslo(2026, 3, 31, 12), date(2026, 4, 30)),
        (oslo(2026, 12, 15, 12), date(2027, 1, 15)),  # over the new year
        (oslo(2026, 8, 31, 23, 59), date(2026, 9, 30)),
    ],
)
def test_the_first_deadline_is_one_month_from_receipt(received, due):
    assert deadlines.first_deadline(received) == due


def test_receipt_is_counted_in_oslo_not_utc():
    # 23:30 UTC on 28 February is 00:30 on 1 March in Oslo: received on 1 March.
    received = datetime(2026, 2, 28, 23, 30, tzinfo=UTC)
    assert deadlines.first_deadline(received) == date(2026, 4, 1)
    # Summer time: 22:30 UTC on 31 May is 00:30 on 1 June in Oslo.
    assert deadlines.first_deadline(datetime(2026, 5, 31, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)


@pytest.mark.parametrize(
    ("received", "months", "due"),
    [
        (oslo(2026, 1, 31, 9), 1, date(2026, 3, 31)),
        (oslo(2026, 1, 31, 9), 2, date(2026, 4, 30)),
        (oslo(2027, 11, 30, 9), 2, date(2028, 2, 29)),
        (oslo(2026, 10, 31, 9), 2, date(2027, 1, 31)),
    ],
)
def test_extensions_count_from_receipt(received, months, due):
    assert deadlines.extended_deadline(received, months=months) == due


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_every_deadline_is_between_28_and_31_days_and_the_cap_between_89_and_92(received):
    day = deadlines.local_date(received)
    first = deadlines.first_deadline(received)
    assert 28 <= (first - day).days <= 31
    assert first.month == (day.month % 12) + 1
    latest = deadlines.latest_extended_deadline(received)
    assert 89 <= (latest - day).days <= 92
    assert first <= deadlines.extended_deadline(received, months=1) <= latest


@pytest.mark.django_db
class TestExtendingARequest:
    def test_an_extension_on_the_last_day_of_the_first_month_is_allowed(self, committed):
        with time_machine.travel(oslo(2026, 1, 31, 10), tick=False):
            request = RequestFactory()
        assert request.first_due_date == date(2026, 2, 28)
        with time_machine.travel(oslo(2026, 2, 28, 23, 59), tick=False), committed():
            request_extend(request=request, months=2, reason="Complex", actor=Actor.system("test"))
        request.refresh_from_db()
        assert request.due_date == date(2026, 4, 30)

    def test_an_extension_the_day_after_the_first_deadline_is_refused(self):
        with time_machine.travel(oslo(2026, 1, 31, 10), tick=False):
            request = RequestFactory()
        # 00:05 on 1 March in Oslo is still 28 February in UTC: Oslo decides.
        with time_machine.travel(oslo(2026, 3, 1, 0, 5), tick=False), pytest.raises(DeadlineRuleBroken):
            request_extend(request=request, months=1, reason="Too late", actor=Actor.system("test"))
        request.refresh_from_db()
        assert request.due_date == date(2026, 2, 28)

    def test_the_two_month_cap_holds_over_several_extensions(self, committed):
        with time_machine.travel(oslo(2027, 11, 30, 10), tick=False):
            request = RequestFactory()
            with committed():
                request_extend(request=request, months=1, reason="a", actor=Actor.system("test"))
            request.refresh_from_db()
            assert request.due_date == date(2028, 1, 30)
            with committed():
                request_extend(request=request, months=1, reason="b", actor=Actor.system("test"))
            request.refresh_from_db()
            assert request.due_date == date(2028, 2, 29)
            with pytest.raises(DeadlineRuleBroken):
                request_extend(request=request, months=1, reason="c", actor=Actor.system("test"))

    def test_overdue_is_judged_by_the_oslo_date(self):
        due = date(2026, 2, 28)
        with time_machine.travel(oslo(2026, 2, 28, 23, 59), tick=False):
            assert not deadlines.is_overdue(due)
        with time_machine.travel(oslo(2026, 3, 1, 0, 1), tick=False):
            assert deadlines.is_overdue(due)
        assert deadlines.is_overdue(due, on=due + timedelta(days=1))
