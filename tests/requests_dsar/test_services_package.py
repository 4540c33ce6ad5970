"""The request services are a package of modules named by what they do; callers import as before."""

from __future__ import annotations

import importlib

from requests_dsar import services
from requests_dsar.models import DataSubjectRequest
from requests_dsar.services import fulfilment


def test_every_public_name_is_reexported_from_the_package():
    for name in services.__all__:
        assert getattr(services, name) is not None


def test_every_kind_of_request_but_a_free_question_has_its_own_handler():
    kinds = set(DataSubjectRequest.Type.values) - {DataSubjectRequest.Type.OTHER}
    assert set(fulfilment.HANDLERS) == kinds
    assert DataSubjectRequest.Type.OTHER not in fulfilment.HANDLERS


def test_the_modules_are_named_for_what_they_do():
    for module in ("portal", "tokens", "workflow", "fulfilment", "mail", "redaction", "reminders", "expiry"):
        assert importlib.import_module(f"requests_dsar.services.{module}")
