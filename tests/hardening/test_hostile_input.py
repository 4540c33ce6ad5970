"""Hostile input against the live views: never a 500 (issue 11, "Bad input everywhere").

Hypothesis draws long strings, NUL bytes, CR/LF, right-to-left overrides, emoji,
markup and SQL, and raw query strings with invalid UTF-8, and sends them to the
public forms and links and to the admin's search boxes, filters and add forms.
Every answer must be below 500 (a page, a form error, a 400, 403, 404 or 429).
Examples are bounded so that `make test` stays quick.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

HOSTILE_PIECES = [
    "\x00", "\r\n", "\u202e", "\u200b", "🙂", "<script>alert(1)</script>", "' OR 1=1 --", "%00",
    "../../etc/passwd", "\ud7ff", "ﬀ", "a" * 300, "1e309", "NaN", "-1", "99999999999999999999",
    "kari@\u05d0firma.no", "@", "\\", '"', "{{ 7*7 }}", "{% debug %}",
]  # fmt: skip
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_PIECES),
    st.lists(st.sampled_from(HOSTILE_PIECES), min_size=1, max_size=4).map("".join),
    st.text(min_size=0, max_size=60),
)
raw_query = st.binary(min_size=1, max_size=40).map(lambda b: "q=" + "".join(f"%{x:02x}" for x in b))
BOUNDED = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)

ADMIN_LISTS = [
    "/admin/subjects/contact/", "/admin/subjects/interaction/", "/admin/subjects/organisation/",
    "/admin/requests_dsar/datasubjectrequest/", "/admin/consent/consentevent/", "/admin/core/auditevent/",
    "/admin/retention/sweeprun/", "/admin/django_celery_beat/periodictask/",
]  # fmt: skip
ADMIN_ADDS = [
    "/admin/subjects/contact/add/", "/admin/subjects/organisation/add/", "/admin/subjects/interaction/add/",
    "/admin/consent/purpose/add/", "/admin/retention/retentionpolicy/add/",
    "/admin/django_celery_beat/crontabschedule/add/", "/admin/django_celery_beat/intervalschedule/add/",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _no_rate_limit_state(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "h"}
    }
    cache.clear()


@BOUNDED
@given(value=hostile_text, which=st.sampled_from(["type", "email", "name", "organisation", "details"]))
def test_the_portal_form_never_answers_500(client, value, which):
    data = {"type": "access", "email": "kari@firma.no", "name": "Kari", "organisation": "", "details": ""}
    data[which] = value
    assert client.post("/portal/request/", data).status_code < 500


@BOUNDED
@given(value=hostile_text, which=st.sampled_from(["name", "email", "topics"]))
def test_the_consent_sign_up_never_answers_500(client, value, which):
    data = {"name": "Kari", "email": "kari@firma.no", "topics": "marketing_products"}
    data[which] = value
    assert client.post("/consent/subscribe/", data).status_code < 500


@BOUNDED
@given(
    token=hostile_text,
    route=st.sampled_from(
        ["/portal/confirm/{}/", "/portal/s/{}/", "/portal/download/{}/", "/consent/confirm/{}/",
         "/consent/unsubscribe/{}/", "/personvern/versjon/{}/"]
    ),
    method=st.sampled_from(["get", "post"]),
)  # fmt: skip
def test_links_with_forged_tokens_never_answer_500(client, token, route, method):
    path = route.format(quote(token, safe="") or "x")
    assert getattr(client, method)(path).status_code < 500


@BOUNDED
@given(query=raw_query, path=st.sampled_from(["/", "/portal/status/", "/personvern/", *ADMIN_LISTS]))
def test_raw_query_strings_never_answer_500(staff_client, query, path):
    assert staff_client.get(path, QUERY_STRING=query).status_code < 500


@BOUNDED
@given(
    path=st.sampled_from(ADMIN_LISTS),
    param=st.sampled_from(["q", "id__exact", "at__year", "at__gte", "o", "p", "contact__id__exact", "all"]),
    value=hostile_text,
)
def test_admin_search_filters_and_ordering_never_answer_500(staff_client, path, param, value):
    assert staff_client.get(path, {param: value}).status_code < 500


@BOUNDED
@given(path=st.sampled_from(ADMIN_ADDS), value=hostile_text)
def test_admin_add_forms_never_answer_500(staff_client, path, value):
    form = staff_client.get(path).context["adminform"].form
    data = {name: value for name in form.fields}
    # Inline formsets on the page need their management forms; give them none to add.
    for prefix in ("assessments", "assessment_set", "legitimateinterestassessment_set"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    assert staff_client.post(path, data).status_code < 500
