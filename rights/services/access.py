"""Access (Art. 15) and portability (Art. 20): what we hold about a person, and what they gave us."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.registry import registry

from ..report import build_sections, render_rows_html
from .common import _addresses, _zip

# --- Access (Art. 15) -------------------------------------------------------------------------


def access_report_build(*, emails: list[str], reference: str) -> bytes:
    """A zip with ``report.html`` (printable) and ``report.json`` of everything held about the person.

    One query per registered model that can find the person's rows (``.values()``,
    no model instances), so the number of queries never grows with the rows.
    Each section says why we hold the data, of which category, from where, who
    receives it and for how long (Art. 15(1)(a)-(d), (g)); the closing part names
    the person's further rights and the right to complain (Art. 15(1)(e)-(f)).
    """
    addresses = _addresses(emails)
    generated_at = timezone.now()
    sections = build_sections(addresses)
    language = translation.get_language() or settings.LANGUAGE_CODE
    # First: rendering also turns the rows' dates into ISO text for the JSON.
    html = render_to_string(
        "rights/access_report.html",
        {
            "reference": reference,
            "generated_at": generated_at,
            "language": language,
            "sections": [(s, render_rows_html(s)) for s in sections],
            "row_count": sum(len(s.rows) for s in sections),
        },
    )
    document = {
        "reference": reference,
        "generated_at": generated_at,
        "language": language,
        "controller": settings.DEFAULT_FROM_EMAIL,
        "sections": [
            {
                "model": s.label,
                "title": s.title,
                "description": s.description,
                "category": s.category,
                "category_label": s.category_label,
                "purposes": [{"code": c, "label": label} for c, label in s.purposes],
                "source": s.source,
                "recipients": [{"code": c, "label": label} for c, label in s.recipients],
                "retention": s.retention,
                "kept_after_erasure_because": s.kept_because,
                "fields": [{"name": n, "label": label} for n, label in s.fields],
                "rows": s.rows,
            }
            for s in sections
        ],
    }
    return _zip(
        {
            "report.html": html,
            # No indent: only then does json use its C encoder (ten thousand rows).
            "report.json": json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False),
        }
    )


# --- Portability (Art. 20) --------------------------------------------------------------------


def portability_export_build(*, emails: list[str], reference: str) -> bytes:
    """A zip with ``data.json`` and one CSV per model of the data the person gave us (Art. 20).

    Only the fields each declaration names in ``provided_by_subject``: what the
    person provided, not what we inferred or recorded about them. One query per
    model.
    """
    addresses = _addresses(emails)
    data: dict[str, list[dict[str, Any]]] = {}
    files: dict[str, str | bytes] = {}
    for declaration in registry.personal():
        if not declaration.findable or not declaration.provided_by_subject:
            continue
        names = declaration.provided_by_subject
        rows = list(declaration.rows_for(addresses).order_by("pk").values(*names))
        if not rows:
            continue
        data[declaration.label] = rows
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(names))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
        files[f"{declaration.label.replace('.', '_')}.csv"] = out.getvalue()
    document = {"reference": reference, "generated_at": timezone.now(), "data": data}
    files = {
        "data.json": json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
        **files,
    }
    return _zip(files)


def _csv_value(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
