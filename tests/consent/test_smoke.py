from __future__ import annotations

import pytest

from consent.models import PrivacyNotice, Purpose


@pytest.mark.django_db
def test_the_policy_purposes_and_first_notice_are_seeded():
    codes = set(Purpose.objects.values_list("code", flat=True))
    assert {"contract", "service_messages", "support", "relationship_management", "job_application",
            "web_analytics", "legal_obligation_security", "honour_objection", "direct_marketing",
            "marketing_products", "marketing_events", "partner_marketing"} <= codes  # fmt: skip
    assert not Purpose.objects.get(code="direct_sales").is_active
    assert PrivacyNotice.objects.get(version="2018-06-01").text_nb.startswith("Personvernerklæring")
