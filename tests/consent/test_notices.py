"""Versioned notices, the material-change campaign and the Art. 14 job."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from consent import services, tasks
from consent.models import InformationNotice, NoticeNotification, PrivacyNotice
from core.audit import Actor
from core.errors import ApplicationError
from subjects.models import Contact
from tests.conftest import needs_redis, wait_for
from tests.subjects.factories import ContactFactory

SYSTEM = Actor.system("test")


def _notice(version="2027-01", *, material=True, days=30) -> PrivacyNotice:
    return services.notice_create(
        actor=SYSTEM, version=version, text_nb="Ny tekst", text_en="New text",
        summary_nb="Vi deler nå med partnere.", summary_en="We now share with partners.",
        is_material=material, effective_from=timezone.now() + timedelta(days=days),
    )  # fmt: skip


def _register(active: int) -> list[Contact]:
    now = timezone.now()
    people = ContactFactory.create_batch(active, last_interaction_at=now - timedelta(days=10))
    people[0].language = "en"
    people[0].save(update_fields=["language"])
    # Not told: long gone, and a function's address.
    ContactFactory(
        last_interaction_at=now - timedelta(days=4 * 365), collected_at=now - timedelta(days=5 * 365)
    )
    ContactFactory(email="post@firma.no", email_kind=Contact.EmailKind.FUNCTIONAL)
    return people


@pytest.mark.django_db
def test_the_site_serves_the_current_notice_and_keeps_old_versions_readable(client):
    response = client.get(reverse("consent:notice"))
    assert response.status_code == 200 and "Personvernerklæring" in response.content.decode()
    new = services.notice_create(
        actor=SYSTEM, version="2026-11", text_nb="Oppdatert erklæring", text_en="Updated notice",
        is_material=False, effective_from=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    services.notice_publish(notice=new, actor=SYSTEM)
    assert "Oppdatert erklæring" in client.get(reverse("consent:notice")).content.decode()
    old = client.get(reverse("consent:notice_version", args=["2018-06-01"]))
    assert old.status_code == 200 and "Personvernerklæring" in old.content.decode()
    english = client.get(reverse("consent:notice"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Updated notice" in english.content.decode()
    assert client.get(reverse("consent:notice_version", args=["1999"])).status_code == 404


@pytest.mark.django_db
def test_a_published_notice_cannot_change_and_a_material_one_must_take_effect_later():
    past = _notice("2026-10", days=-1)
    with pytest.raises(ApplicationError, match="future"):
        services.notice_publish(notice=past, actor=SYSTEM)
    assert PrivacyNotice.objects.get(pk=past.pk).published_at is None
    current = PrivacyNotice.objects.get(version="2018-06-01")
    with pytest.raises(ApplicationError, match="new version"):
        services.notice_update(notice=current, actor=SYSTEM, changes={"text_nb": "Endret i ettertid"})


@pytest.mark.django_db
def test_a_material_change_is_emailed_once_to_every_active_contact_in_their_language(settings):
    settings.CONSENT_NOTICE_BATCH_SIZE = 4
    people = _register(active=10)
    notice = _notice()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.notice_publish(notice=notice, actor=SYSTEM)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    english = next(m for m in mail.outbox if m.to == [people[0].email])
    assert "We now share with partners." in english.body
    assert "Vi deler nå med partnere." in next(m for m in mail.outbox if m.to == [people[1].email]).body
    assert NoticeNotification.objects.filter(notice=notice).count() == 10
    notice.refresh_from_db()
    assert notice.campaign_finished_at is not None
    # Running it again (the hourly resume) sends nothing more.
    tasks.notice_campaigns_resume()
    tasks.notice_campaign_send(notice_id=notice.pk)
    assert len(mail.outbox) == 10


@pytest.mark.django_db
def test_a_campaign_cut_off_after_one_batch_resumes_without_telling_anyone_twice():
    people = _register(active=9)
    notice = _notice()
    PrivacyNotice.objects.filter(pk=notice.pk).update(published_at=timezone.now())
    sent, finished = services.notice_campaign_batch(notice_id=notice.pk, batch_size=4)
    assert (sent, finished) == (4, False)
    # The worker died here; the hourly job picks the campaign up again.
    tasks.notice_campaigns_resume()
    counts = Counter(m.to[0] for m in mail.outbox)
    assert counts == Counter({p.email: 1 for p in people})


def _mail_recipients(mail_dir) -> Counter:
    recipients: Counter = Counter()
    for path in mail_dir.glob("*.log"):
        if path.name.startswith("worker-"):
            continue
        recipients.update(re.findall(r"^To: (\S+)$", path.read_text(), flags=re.MULTILINE))
    return recipients


@needs_redis
def test_the_campaign_sends_exactly_one_email_per_active_contact_when_its_worker_is_stopped_and_restarted(
    restartable_worker,
):
    people = _register(active=24)
    notice = _notice()
    PrivacyNotice.objects.filter(pk=notice.pk).update(published_at=timezone.now())
    restartable_worker.start()
    tasks.notice_campaign_send.apply_async(
        kwargs={"notice_id": notice.pk, "batch_size": 3, "pause_seconds": 0.5}
    )
    wait_for(lambda: NoticeNotification.objects.filter(notice=notice).exists(), interval=0.05)
    restartable_worker.stop()
    halfway = NoticeNotification.objects.filter(notice=notice).count()
    assert 0 < halfway < len(people), "the worker should have been stopped halfway"

    restartable_worker.start()
    tasks.notice_campaigns_resume.delay()
    wait_for(lambda: PrivacyNotice.objects.get(pk=notice.pk).campaign_finished_at is not None, timeout=60)
    restartable_worker.stop()  # let any task in hand finish before counting
    assert _mail_recipients(restartable_worker.mail_dir) == Counter({p.email: 1 for p in people})
    assert NoticeNotification.objects.filter(notice=notice).count() == len(people)


@pytest.mark.django_db
def test_the_art_14_job_tells_contacts_from_third_parties_once_within_the_month():
    now = timezone.now()
    recent = ContactFactory(source_type=Contact.SourceType.DATA_COLLECTOR, source_name="Proff Forvalt",
                            collected_at=now - timedelta(days=3))  # fmt: skip
    old = ContactFactory(source_type=Contact.SourceType.PUBLIC_SOURCE, collected_at=now - timedelta(days=40),
                         language="en")  # fmt: skip
    ContactFactory(source_type=Contact.SourceType.GIVEN_DIRECTLY)
    ContactFactory(source_type=Contact.SourceType.SOCIAL_NETWORK, email="post@firma.no",
                   email_kind=Contact.EmailKind.FUNCTIONAL)  # fmt: skip
    tasks.art14_notices_send()
    tasks.art14_notices_send()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([recent.email, old.email])
    assert "Proff Forvalt" in next(m for m in mail.outbox if m.to == [recent.email]).body
    assert "Public source" in next(m for m in mail.outbox if m.to == [old.email]).body
    assert dict(InformationNotice.objects.values_list("contact_id", "late")) == {
        recent.pk: False,
        old.pk: True,
    }
