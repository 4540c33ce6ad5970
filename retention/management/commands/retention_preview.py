"""python manage.py retention_preview [--policy CODE] [--language nb|en]: the next sweep, in words.

For a privacy officer: per policy the period, the event it runs from, the cut-off
date, how many rows go, how many are spared and why (a legal hold, an open request
or objection, an active customer), and what goes with them by cascade, per table.
Reads only. One language per run.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import formats, translation
from django.utils.translation import gettext as _

from retention.models import RetentionPolicy
from retention.selectors import policy_explain


class Command(BaseCommand):
    help = "Explain, in words, what each retention policy would remove now. Changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--policy", action="append", dest="codes", metavar="CODE", help="Only this policy."
        )
        parser.add_argument(
            "--language", choices=["nb", "en"], default="nb", help="The language of the text."
        )

    def handle(self, *args: Any, codes: list[str] | None, language: str, **options: Any) -> None:
        policies = RetentionPolicy.objects.filter(enabled=True)
        if codes:
            policies = RetentionPolicy.objects.filter(code__in=codes)
            missing = sorted(set(codes) - set(policies.values_list("code", flat=True)))
            if missing:
                raise CommandError(f"No retention policy with the code {', '.join(missing)}.")
        with translation.override(language):
            self.stdout.write(_("Preview: nothing is changed."))
            for policy in policies:
                explained = policy_explain(policy=policy)
                self.stdout.write("")
                self.stdout.write(
                    _(
                        "Policy %(code)s (%(category)s): %(action)s after %(days)d days, counted from "
                        "%(anchor)s; cut-off %(cutoff)s."
                    )
                    % {
                        "code": policy.code,
                        "category": policy.category,
                        "action": policy.get_action_display().lower(),
                        "days": policy.period_days,
                        "anchor": explained.anchor,
                        "cutoff": formats.date_format(explained.cutoff, "SHORT_DATE_FORMAT"),
                    }
                )
                for line in explained.lines:
                    self.stdout.write(line)
