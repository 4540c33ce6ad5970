"""The breach register (Art. 33): history, the 72-hour clock, reminders; telling the people (Art. 34)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from accountability import services, tasks
from accountability.models import Breach, BreachCommunication, BreachNotification
from core.audit import Actor
from tests.conftest import needs_redis, wait_for
from tests.subjects.factories import ContactFactory, OrganisationFactory

OSLO = ZoneInfo("Europe/Oslo")
DISCOVERED = datetime(2026, 3, 27, 22, 30, tzinfo=OSLO)  # the night before summer time begins


def _after(hours: float) -> datetime:
    """Real hours after discovery (in UTC: Oslo's wall clock skips an hour in between)."""
    return DISCOVERED.astimezone(UTC) + timedelta(hours=hours)


ACTOR = Actor.system("test")


def _breach(**values) -> Breach:
    defaults = {"title": "Lost laptop", "discovered_at": DISCOVERED, "discovered_by": "IT support",
                "description": "An unencrypted laptop with an export of contacts was stolen.",
                "categories": ["contact"]}  # fmt: skip
    return services.breach_create(actor=ACTOR, **{**defaults, **values})


@pytest.mark.django_db
class TestTheRecord:
    def test_every_change_is_kept(self):
        breach = _breach()
        services.breach_update(actor=ACTOR, breach=breach, changes={"approx_people": 120, "risk": "high"})
        versions = list(breach.revisions.order_by("number"))
        assert [v.number for v in versions] == [1, 2]
        assert versions[0].snapshot["approx_people"] is None
        assert versions[1].snapshot["approx_people"] == 120
        assert versions[1].changed_fields == ["approx_people", "risk"]

    def test_the_clock_runs_72_hours_from_discovery_across_a_clock_change(self):
        breach = _breach()
        # 72 real hours, although the clocks in Oslo go forward one hour in between.
        assert breach.deadline - breach.discovered_at == timedelta(hours=72)
        assert breach.hours_left(_after(70)) == 2
        # On Oslo's wall clock the deadline is 23:30 on the third day, not 22:30.
        assert breach.deadline.astimezone(OSLO) == datetime(2026, 3, 30, 23, 30, tzinfo=OSLO)

    def test_a_decision_needs_its_reason(self):
        breach = _breach()
        with pytest.raises(ValidationError) as error:
            services.breach_update(actor=ACTOR, breach=breach, changes={"decision": "not_notify"})
        assert "decision_reason" in error.value.message_dict

    def test_a_late_notification_needs_the_reasons_for_the_delay(self):
        breach = _breach()
        late = {"decision": "notify", "decision_reason": "High risk", "notified_at": _after(80),
                "authority_reference": "DT-2026-17"}  # fmt: skip
        with pytest.raises(ValidationError) as error:
            services.breach_update(actor=ACTOR, breach=breach, changes=late)
        assert list(error.value.message_dict) == ["delay_reason"]
        breach = Breach.objects.get(pk=breach.pk)
        services.breach_update(actor=ACTOR, breach=breach, changes={**late, "delay_reason": "Easter holiday"})
        assert not Breach.objects.get(pk=breach.pk).clock_running


@pytest.mark.django_db
class TestTheReminders:
    def _run_at(self, hours: float) -> list[str]:
        mail.outbox.clear()
        with time_machine.travel(_after(hours), tick=False):
            tasks.breaches_send_reminders()
        return [m.subject for m in mail.outbox]

    def test_the_privacy_officer_is_reminded_at_24_48_and_68_hours(self, settings):
        settings.PRIVACY_OFFICER_EMAIL = "dpo@example.no"
        _breach()
        assert self._run_at(23.9) == []
        assert self._run_at(24) == ["Breach Lost laptop: 24 hours since discovery"]
        assert mail.outbox[0].to == ["dpo@example.no"]
        assert self._run_at(30) == []
        assert self._run_at(48.2) == ["Breach Lost laptop: 48 hours since discovery"]
        assert self._run_at(67.9) == []
        assert self._run_at(68) == ["Breach Lost laptop: 68 hours since discovery"]
        assert self._run_at(71) == []

    def test_a_late_first_run_sends_only_the_latest_reminder(self):
        _breach()
        assert self._run_at(50) == ["Breach Lost laptop: 48 hours since discovery"]

    def test_the_reminders_stop_when_notified_or_decided_not_to_notify(self):
        notified, decided = _breach(title="Notified"), _breach(title="Decided")
        assert len(self._run_at(24)) == 2
        services.breach_update(actor=ACTOR, breach=notified, changes={
            "decision": "notify", "decision_reason": "Risk", "notified_at": _after(30),
            "authority_reference": "DT-1"})  # fmt: skip
        services.breach_update(actor=ACTOR, breach=decided, changes={
            "decision": "not_notify", "decision_reason": "The laptop was encrypted"})  # fmt: skip
        assert self._run_at(48) == []

    def test_a_decision_to_notify_not_yet_carried_out_keeps_the_clock_running(self):
        breach = _breach()
        services.breach_update(
            actor=ACTOR, breach=breach, changes={"decision": "notify", "decision_reason": "Risk"}
        )
        assert self._run_at(24) == ["Breach Lost laptop: 24 hours since discovery"]


def _communication(breach: Breach, **selection) -> BreachCommunication:
    return services.breach_communication_create(
        actor=ACTOR, breach=breach,
        subject_nb="Viktig: avvik", body_nb="Vi har hatt et sikkerhetsbrudd.",
        subject_en="Important: breach", body_en="We have had a security breach.",
        **selection,
    )  # fmt: skip


@pytest.mark.django_db
class TestTellingThePeople:
    def test_people_are_chosen_by_organisation_category_or_address(self):
        acme, other = OrganisationFactory(), OrganisationFactory()
        a1, a2 = ContactFactory(organisation=acme), ContactFactory(organisation=acme)
        listed = ContactFactory(organisation=other, email="listed@firma.no")
        ContactFactory(organisation=other)
        communication = _communication(_breach(), organisation_ids=[acme.pk], addresses=["Listed@Firma.no"])
        assert set(communication.people.values_list("contact_id", flat=True)) == {a1.pk, a2.pk, listed.pk}
        assert communication.selection == {"organisations": [acme.pk], "categories": [], "addresses": 1}

    def test_a_category_chooses_the_people_with_data_of_it(self):
        from tests.subjects.factories import InteractionFactory

        met = ContactFactory()
        InteractionFactory(contact=met)
        ContactFactory()
        communication = _communication(_breach(), categories=["interaction"])
        assert list(communication.people.values_list("contact_id", flat=True)) == [met.pk]

    def test_nobody_chosen_is_refused(self):
        with pytest.raises(ValidationError):
            _communication(_breach(), addresses=["nobody@example.no"])
        assert not BreachCommunication.objects.exists()

    def test_each_person_is_told_once_in_their_language(self, settings, django_capture_on_commit_callbacks):
        settings.BREACH_COMMUNICATION_BATCH_SIZE = 2
        org = OrganisationFactory()
        people = [ContactFactory(organisation=org, language=lang) for lang in ("nb", "en", "nb", "en", "nb")]
        communication = _communication(_breach(), organisation_ids=[org.pk])
        with django_capture_on_commit_callbacks(execute=True):
            services.breach_communication_start(actor=ACTOR, communication=communication)
        by_address = {m.to[0]: m for m in mail.outbox}
        assert sorted(by_address) == sorted(p.email for p in people) and len(mail.outbox) == 5
        assert by_address[people[0].email].subject == "Viktig: avvik"
        assert by_address[people[1].email].subject == "Important: breach"
        communication.refresh_from_db()
        assert communication.status == "finished"
        assert not communication.people.filter(sent_at=None).exists()
        with pytest.raises(Exception, match="already"):
            services.breach_communication_start(actor=ACTOR, communication=communication)
        tasks.breach_communication_send(communication_id=communication.pk)
        assert len(mail.outbox) == 5


def _mail_recipients(mail_dir) -> Counter:
    found: Counter = Counter()
    for path in mail_dir.glob("*.log"):
        if not path.name.startswith("worker-"):
            found.update(re.findall(r"^To: (\S+)$", path.read_text(), flags=re.MULTILINE))
    return found


@needs_redis
def test_a_stopped_worker_resumes_and_tells_everyone_exactly_once(restartable_worker):
    org = OrganisationFactory()
    people = [ContactFactory(organisation=org) for _ in range(24)]
    communication = _communication(_breach(), organisation_ids=[org.pk])
    BreachCommunication.objects.filter(pk=communication.pk).update(status="sending")
    restartable_worker.start()
    tasks.breach_communication_send.apply_async(
        kwargs={"communication_id": communication.pk, "batch_size": 3, "pause_seconds": 0.5}
    )
    wait_for(lambda: BreachNotification.objects.filter(sent_at__isnull=False).exists(), interval=0.05)
    restartable_worker.stop()
    halfway = BreachNotification.objects.filter(sent_at__isnull=False).count()
    assert 0 < halfway < len(people), "the worker should have been stopped halfway"

    restartable_worker.start()
    tasks.breach_communications_resume.delay()
    wait_for(lambda: BreachCommunication.objects.get(pk=communication.pk).status == "finished", timeout=60)
    restartable_worker.stop()
    assert _mail_recipients(restartable_worker.mail_dir) == Counter({p.email: 1 for p in people})
    assert BreachNotification.objects.filter(sent_at__isnull=False).count() == len(people)
