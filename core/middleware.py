"""Input that cannot be valid is refused at the door with a 400, before it reaches a query.

Found broken (issue 11, 9): NUL bytes in a path or a query string reached
PostgreSQL (which refuses them with an error, a 500 to the person), invalid
UTF-8 in query strings, and admin requests naming records by ids that are not
ids (actions' ``_selected_action``, autocomplete widgets re-rendered with
``?contact=abc``). One middleware covers the class, so no view has to
remember it (STYLE.md: "ids are integers, text has no NUL").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from django.core.exceptions import BadRequest, ValidationError
from django.db import DataError, models
from django.http import HttpRequest, HttpResponse, QueryDict

_INTEGER = re.compile(r"-?\d+")
_BIGINT_MAX = 2**63 - 1


class RejectMalformedInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info:
            raise BadRequest("NUL in the path")
        raw = unquote_to_bytes(request.META.get("QUERY_STRING", "").replace("+", " "))
        if b"\x00" in raw:
            raise BadRequest("NUL in the query string")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("query string is not UTF-8") from None
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        # ModelAdmin.get_urls() marks its views with the ModelAdmin they belong to.
        model_admin = getattr(view_func, "model_admin", None)
        if model_admin is None:
            return None
        model = model_admin.model
        if request.method == "POST":
            if "\x00" in "".join(v for values in request.POST.lists() for v in values[1]):
                raise BadRequest("NUL in the form")
            _check_ids(model._meta.pk, request.POST.getlist("_selected_action"))
            _check_relations(model, request.POST, split=False)
        else:
            _check_relations(model, request.GET, split=True)
            _check_integer_filters(request.GET)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # The database refused a value it cannot represent (an integer or a date
        # out of range, a NUL in text): the input was bad, not the server.
        if isinstance(exception, DataError):
            raise BadRequest("the database cannot represent a value in the request") from exception
        return None


def _check_ids(field: models.Field, values: list[str]) -> None:
    for value in values:
        if value in ("", None):
            continue
        try:
            field.run_validators(field.to_python(value))
        except ValidationError:
            raise BadRequest(f"not a valid id for {field.model._meta.label}") from None
        if isinstance(field, models.IntegerField) and abs(int(value)) > _BIGINT_MAX:
            raise BadRequest("id out of range")


def _check_relations(model: type[models.Model], params: QueryDict, *, split: bool) -> None:
    for field in model._meta.get_fields():
        if not (field.is_relation and field.concrete and (field.many_to_one or field.many_to_many)):
            continue
        if field.name not in params:
            continue
        values = params.getlist(field.name)
        if split:
            # The add view takes initial many-to-many values as "1,2,3".
            values = [v for value in values for v in value.split(",")]
        _check_ids(field.target_field, values)


def _check_integer_filters(params: QueryDict) -> None:
    for name, values in params.lists():
        if name == "q":
            continue  # a search for a long number is a search, not an id
        for value in values:
            if _INTEGER.fullmatch(value) and abs(int(value)) > _BIGINT_MAX:
                raise BadRequest("number out of range")
