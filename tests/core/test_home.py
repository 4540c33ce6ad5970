from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "words"),
    [("nb", "Personvernerklæringen vår"), ("en", "Our privacy notice")],
)
def test_the_front_page_leads_to_the_portal_and_the_notice_in_the_persons_language(client, language, words):
    response = client.get("/", headers={"accept-language": language})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="/portal/"' in body and 'href="/personvern/"' in body
    assert words in body
