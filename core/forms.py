"""Form fields shared by every app's forms and by the admin."""

from __future__ import annotations

import json
import math
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


class StrictJSONField(forms.JSONField):
    """JSON as the standard and PostgreSQL know it, and a list where the model keeps a list.

    Found broken (issue 11, 9): a purpose's ``data_categories`` of ``""``,
    ``"null"``, ``"NaN"`` or ``"1e309"`` and a policy's ``keep_for_statistics``
    of ``""`` answered 500 (NOT NULL, or JSON PostgreSQL refuses). A field whose
    model default is a list (every JSONField in the register: names of
    categories or fields) takes a list of names; empty means the empty list.
    """

    default_error_messages = {
        "invalid": _("Enter valid JSON."),
        "not_a_list": _('Enter a list of names in JSON, for example ["name", "email"], or leave it empty.'),
    }

    def _wants_list(self) -> bool:
        return self.initial is list or isinstance(self.initial, list)

    def to_python(self, value: Any) -> Any:
        if self.disabled:
            return value
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return [] if self._wants_list() else None
        if isinstance(value, (list, dict, int, float, forms.fields.JSONString)):
            parsed = value
        else:
            try:
                parsed = json.loads(value, cls=self.decoder, parse_constant=_refuse_constant)
            except (json.JSONDecodeError, ValueError, TypeError):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if isinstance(parsed, float) and not math.isfinite(parsed):
            # "1e309" parses as infinity, which JSON cannot hold.
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if self._wants_list():
            if parsed is None:
                return []
            if not isinstance(parsed, list) or not all(
                isinstance(item, str) and item.strip() and "\x00" not in item for item in parsed
            ):
                raise forms.ValidationError(self.error_messages["not_a_list"], code="not_a_list")
        return parsed
