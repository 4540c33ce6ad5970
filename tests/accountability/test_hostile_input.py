"""The accountability doors answer hostile input with a form error or a 400, never a 500."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hardening.test_hostile_input import BOUNDED, hostile_text

pytestmark = pytest.mark.django_db

ADDS = [
    "/admin/accountability/recipient/add/", "/admin/accountability/disclosure/add/",
    "/admin/accountability/breach/add/", "/admin/accountability/breachcommunication/add/",
    "/admin/accountability/processoractivity/add/",
]  # fmt: skip


@BOUNDED
@given(path=st.sampled_from(ADDS), value=hostile_text)
def test_the_add_forms_never_answer_500(staff_client, path, value):
    form = staff_client.get(path).context["adminform"].form
    data = {name: value for name in form.fields}
    data.update({"revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
    assert staff_client.post(path, data).status_code < 500


@BOUNDED
@given(value=hostile_text, name=st.sampled_from(["as_at", "lang", "format", "since", "until"]))
def test_the_record_pages_never_answer_500(staff_client, value, name):
    for path in ("/admin/accountability/processingrecordversion/record/",
                 "/admin/accountability/processingrecordversion/record/diff/"):  # fmt: skip
        assert staff_client.get(path, {name: value}).status_code < 500
