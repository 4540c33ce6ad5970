"""python manage.py retention_sweep [--dry-run] [--policy CODE]: the scheduled job's work, by hand."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import ApplicationError
from retention.models import SweepRun
from retention.services import retention_sweep


class Command(BaseCommand):
    help = "Delete or anonymise what the retention policies make due. --dry-run changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would go, per policy; change nothing."
        )
        parser.add_argument(
            "--policy", action="append", dest="codes", metavar="CODE", help="Only this policy."
        )
        parser.add_argument("--batch-size", type=int, default=None, help="Rows per transaction.")

    def handle(
        self, *args: Any, dry_run: bool, codes: list[str] | None, batch_size: int | None, **options: Any
    ) -> None:
        try:
            outcome = retention_sweep(
                trigger=SweepRun.Trigger.COMMAND, codes=codes, dry_run=dry_run, batch_size=batch_size
            )
        except (ApplicationError, ValidationError) as error:
            raise CommandError(getattr(error, "message", None) or "; ".join(error.messages)) from None
        if outcome.dry_run:
            self.stdout.write("Dry run: nothing was changed.")
            for line in outcome.preview:
                held = " (category on hold: nothing goes)" if line.held else ""
                self.stdout.write(
                    f"{line.policy.code:<20} {line.declaration.label:<32} would {line.policy.action}: "
                    f"{line.due} of {line.total} ({line.share:.1%}); "
                    f"due within 30 days: {line.due_in_30_days}{held}"
                )
            return
        for run in outcome.runs:
            self.stdout.write(
                f"{run.policy_code:<20} {run.get_status_display()}: deleted {run.deleted}, "
                f"anonymised {run.anonymised}, errors {run.error_count} (run {run.pk})"
            )
        if any(
            run.status in {SweepRun.Status.FAILED, SweepRun.Status.STOPPED_BY_VALVE} for run in outcome.runs
        ):
            raise CommandError(
                "One or more policies did not run to the end; see the run history in the admin."
            )
