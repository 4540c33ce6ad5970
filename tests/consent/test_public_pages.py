"""The notice and sign-up pages stay cheap without losing a guarantee (issue 9, the pages under load).

Their fixed parts are rendered once per language and process; what they show still follows
the database at once (a new version published, a version coming into force, a topic
reworded), the sign-up form still carries each visitor's own token and refuses a POST
without one, and no kept fragment holds a token or anything a person typed.
"""

from __future__ import annotations

import pickle
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import PendingSignup, PrivacyNotice, Purpose
from core.audit import Actor

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_caches(settings):
    # A private default cache (the sign-up's rate limits) and fragments in this
    # process's memory, as in production; each test starts without any.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
        "template_fragments": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "consent-fragments-under-test",
        },
    }
    cache.clear()
    caches["template_fragments"].clear()
    yield
    cache.clear()
    caches["template_fragments"].clear()


def _fragments() -> list[str]:
    """Every fragment kept, as text (the local-memory cache keeps them pickled)."""
    kept = caches["template_fragments"]._cache  # the only way to see every key
    return [str(pickle.loads(value)) for value in kept.values()]


def _publish(version: str, *, days: float, text_nb: str = "Ny tekst", text_en: str = "New") -> PrivacyNotice:
    notice = services.notice_create(
        actor=SYSTEM, version=version, text_nb=text_nb, text_en=text_en,
        summary_nb="Endret: partnere.", summary_en="Changed: partners.",
        is_material=days > 0, effective_from=timezone.now() + timedelta(days=days),
    )  # fmt: skip
    return services.notice_publish(notice=notice, actor=SYSTEM)


class TestNoticePages:
    def test_a_version_published_shows_at_once_though_the_page_was_kept(self):
        Client().get("/personvern/")  # rendered and kept
        assert "2027-03" not in Client().get("/personvern/").content.decode()
        _publish("2027-03", days=30)
        body = Client().get("/personvern/").content.decode()
        assert "En ny versjon (2027-03) trer i kraft" in body
        assert 'href="/personvern/versjon/2027-03/"' in body

    def test_an_older_version_published_later_joins_the_list_at_once(self):
        Client().get("/personvern/")
        _publish("2015-01", days=-4000, text_nb="Gammel tekst")
        body = Client().get("/personvern/").content.decode()
        assert 'href="/personvern/versjon/2015-01/"' in body
        assert "Gammel tekst" not in body  # the one in force is still the newest

    def test_the_version_in_force_changes_when_its_date_comes(self):
        _publish("2027-03", days=30, text_nb="Teksten fra mars")
        before = Client().get("/personvern/").content.decode()
        assert "Teksten fra mars" not in before
        with time_machine.travel(timezone.now() + timedelta(days=31)):
            after = Client().get("/personvern/").content.decode()
            version = Client().get("/personvern/versjon/2027-03/").content.decode()
        assert "Teksten fra mars" in after
        assert "Dette er ikke versjonen som gjelder" not in version

    def test_a_version_page_and_the_current_page_are_kept_apart(self):
        current = PrivacyNotice.objects.get(version="2018-06-01")
        PrivacyNotice.objects.filter(pk=current.pk).update(summary_nb="Hva som endret seg i 2018")
        Client().get("/personvern/")  # kept first, without the summary
        version = Client().get("/personvern/versjon/2018-06-01/").content.decode()
        assert "Hva som endret seg i 2018" in version
        assert "Hva som endret seg i 2018" not in Client().get("/personvern/").content.decode()

    def test_each_language_gets_its_own_text_from_the_same_process(self):
        _publish("2026-11", days=-1, text_nb="Oppdatert erklæring", text_en="Updated notice")
        for _ in range(2):  # the second round comes from the fragments
            bokmal = Client(headers={"Accept-Language": "nb"}).get("/personvern/").content.decode()
            english = Client(headers={"Accept-Language": "en"}).get("/personvern/").content.decode()
            assert "Oppdatert erklæring" in bokmal and "Updated notice" not in bokmal
            assert "Updated notice" in english and "Oppdatert erklæring" not in english
            assert 'lang="en"' in english

    def test_the_list_of_versions_reads_no_texts(self):
        for version in ("2019-01", "2020-01", "2021-01"):
            _publish(version, days=-1000, text_nb="Lang tekst " * 1000)
        with CaptureQueriesContext(connection) as queries:
            body = Client().get("/personvern/").content.decode()
        assert 'href="/personvern/versjon/2021-01/"' in body
        listings = [q["sql"] for q in queries.captured_queries if "consent_privacynotice" in q["sql"]]
        listings = [sql for sql in listings if "LIMIT" not in sql]
        assert len(listings) == 1
        assert '"text_nb"' not in listings[0] and '"text_en"' not in listings[0]

    def test_no_notice_page_sets_a_cookie_or_carries_a_token(self):
        for path in ("/personvern/", "/personvern/versjon/2018-06-01/"):
            response = Client().get(path)
            assert response.status_code == 200
            assert dict(response.cookies) == {}
            assert "csrfmiddlewaretoken" not in response.content.decode()


class TestSignUpPage:
    def test_each_visitor_gets_their_own_token_though_the_form_is_kept(self):
        first = Client().get(reverse("consent:subscribe"))
        second = Client().get(reverse("consent:subscribe"))
        assert "csrftoken" in first.cookies and "csrftoken" in second.cookies
        assert TOKEN.search(first.content.decode()).group(1) != TOKEN.search(second.content.decode()).group(1)
        assert _fragments(), "the form's fixed parts are kept"
        assert not any("csrfmiddlewaretoken" in fragment for fragment in _fragments())

    def test_it_still_refuses_a_post_without_its_token(self):
        browser = Client(enforce_csrf_checks=True)
        assert browser.get(reverse("consent:subscribe")).status_code == 200
        refused = Client(enforce_csrf_checks=True).post(
            reverse("consent:subscribe"),
            {"name": "Kari Nordmann", "email": "kari.nordmann@firma.no", "topics": ["marketing_products"]},
        )
        assert refused.status_code == 403
        assert not PendingSignup.objects.exists()

    def test_a_topic_reworded_in_the_admin_shows_at_once(self):
        assert "Nyheter om produkter" in Client().get(reverse("consent:subscribe")).content.decode()
        purpose = Purpose.objects.get(code="marketing_products")
        services.purpose_update(purpose=purpose, actor=SYSTEM, changes={"name_nb": "Produktnytt"})
        body = Client().get(reverse("consent:subscribe")).content.decode()
        assert "e-post om: Produktnytt." in body
        assert "Nyheter om produkter" not in body

    def test_each_language_gets_its_own_form_from_the_same_process(self):
        for _ in range(2):
            bokmal = Client(headers={"Accept-Language": "nb"}).get("/consent/subscribe/").content.decode()
            english = Client(headers={"Accept-Language": "en"}).get("/consent/subscribe/").content.decode()
            assert "kan sende meg e-post om" in bokmal and "may email me about" not in bokmal
            assert "may email me about" in english and "kan sende meg e-post om" not in english

    def test_a_refused_form_shows_the_persons_input_and_is_never_kept(self):
        Client().get(reverse("consent:subscribe"))  # the empty form, kept
        response = Client().post(
            reverse("consent:subscribe"),
            {"name": "Kari <b>Nordmann</b>", "email": "ikke-en-adresse", "topics": ["marketing_products"]},
        )
        body = response.content.decode()
        assert response.status_code == 200
        assert 'value="Kari &lt;b&gt;Nordmann&lt;/b&gt;"' in body
        assert 'value="ikke-en-adresse"' in body
        assert re.search(r'value="marketing_products"[^>]*checked', body)
        assert 'aria-invalid="true"' in body
        assert not PendingSignup.objects.exists()
        assert not any("Kari" in fragment or "ikke-en-adresse" in fragment for fragment in _fragments())
        # The next visitor gets the empty form, not the person's input.
        assert "Kari" not in Client().get(reverse("consent:subscribe")).content.decode()
