from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.services import audit_chain_check


class Command(BaseCommand):
    help = (
        "Walk the audit trail's hash chain from the first event and name the first broken link. "
        "Exit code 1 when the chain is broken (the privacy officer is emailed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-anchor", action="store_true", help="Do not append the head hash to AUDIT_ANCHOR_FILE."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        _, report = audit_chain_check(anchor=not options["no_anchor"])
        if not report.ok:
            raise CommandError(f"Audit chain broken at event {report.broken_seq}: {report.problem}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.events_checked} events, "
                f"head {report.head_seq} {report.head_hash}"
            )
        )
