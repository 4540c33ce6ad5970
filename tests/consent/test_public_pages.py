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

from consent import selectors, services
from consent.models import PendingSignup, PrivacyNotice, Purpose
from core.audit import Actor
from tests.consent.factories import grant
from tests.subjects.factories import ContactFactory

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

    def test_a_kept_page_costs_one_query_which_reads_no_text(self):
        for version, days in (("2019-01", -900), ("2020-01", -800), ("2021-01", -700)):
            _publish(version, days=days, text_nb="Lang tekst " * 1000)
        Client().get("/personvern/")  # rendered and kept
        Client().get("/personvern/versjon/2019-01/")
        for path in ("/personvern/", "/personvern/versjon/2019-01/"):
            with CaptureQueriesContext(connection) as queries:
                body = Client().get(path).content.decode()
            assert 'href="/personvern/versjon/2021-01/"' in body
            assert "Lang tekst" in body
            assert len(queries.captured_queries) == 1
            assert '"text_nb"' not in queries.captured_queries[0]["sql"]

    def test_a_version_never_published_is_not_found(self):
        unpublished = services.notice_create(
            actor=SYSTEM, version="2028-01", text_nb="Utkast", text_en="Draft",
            effective_from=timezone.now() + timedelta(days=400),
        )  # fmt: skip
        assert unpublished.published_at is None
        for path in ("/personvern/versjon/2028-01/", "/personvern/versjon/1999/"):
            response = Client().get(path)
            assert response.status_code == 404
            assert "Utkast" not in response.content.decode()

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


class TestUnsubscribePage:
    def test_the_kept_choice_holds_no_link_token_and_posts_back_to_each_persons_link(self):
        first, second = ContactFactory(), ContactFactory()
        for contact in (first, second):
            grant(contact)
        tokens = [
            services.unsubscribe_token(contact=contact, purpose_code="marketing_products")
            for contact in (first, second)
        ]
        pages = [Client().get(reverse("consent:unsubscribe", args=[token])) for token in tokens]
        assert [page.status_code for page in pages] == [200, 200]
        assert pages[0].content == pages[1].content  # the second came from the fragment
        body = pages[1].content.decode()
        assert "Nyheter om produkter" in body
        assert body.count('<form method="post">') == 2 and "action=" not in body
        assert not any(token in fragment for token in tokens for fragment in _fragments())
        # Each person's link still does their own unsubscribing.
        assert Client().post(reverse("consent:unsubscribe", args=[tokens[1]])).status_code == 200
        assert not selectors.consent_allowed(contact=second, purpose_code="marketing_products")
        assert selectors.consent_allowed(contact=first, purpose_code="marketing_products")

    def test_each_language_gets_the_topic_in_its_own_words(self):
        contact = ContactFactory()
        grant(contact)
        path = reverse("consent:unsubscribe", args=[services.unsubscribe_token(
            contact=contact, purpose_code="marketing_products")])  # fmt: skip
        for _ in range(2):
            bokmal = Client(headers={"Accept-Language": "nb"}).get(path).content.decode()
            english = Client(headers={"Accept-Language": "en"}).get(path).content.decode()
            assert "Nyheter om produkter" in bokmal and "Stop all marketing" not in bokmal
            assert "Stop all marketing to me" in english and "Nyheter om produkter" not in english
