"""System checks for the words the access report shows (Art. 12(1), 15(1)).

Every purpose, category and recipient a declaration names must have words in
``rights.vocabulary``, in both languages: otherwise the report would show the
person an internal code.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from core.registry import registry

from .vocabulary import CATEGORIES, PURPOSES, RECIPIENTS


@checks.register(checks.Tags.models)
def check_declared_codes_have_words(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for declaration in registry.personal():
        unknown = [
            *(f"purpose {c}" for c in declaration.purposes if c not in PURPOSES),
            *(f"recipient {c}" for c in declaration.recipients if c not in RECIPIENTS),
            *([f"category {declaration.category}"] if declaration.category not in CATEGORIES else []),
        ]
        if unknown:
            errors.append(
                checks.Error(
                    f"{declaration.label} names codes the purpose catalogue does not know: "
                    f"{', '.join(unknown)}.",
                    hint="Add them, with their words in bokmål and English, to rights/vocabulary.py.",
                    obj=declaration.model,
                    id="rights.E001",
                )
            )
    return errors
