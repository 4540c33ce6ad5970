"""Repeat every journalled erasure after a database backup was restored (Art. 17)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from core.audit import Actor
from core.errors import ApplicationError
from rights.services import erasure_journal_import, erasure_replay


class Command(BaseCommand):
    help = (
        "After restoring a database backup: erase again everyone the erasure journal names. "
        "Give --journal with the latest export (erasure_journal_export or ERASURE_JOURNAL_FILE), "
        "since the restore rolled the database's own journal back to the backup's day."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--journal",
            action="append",
            default=[],
            metavar="FILE",
            help="A journal export (JSON lines) to import first; may be given more than once.",
        )
        parser.add_argument(
            "--since",
            metavar="DATETIME",
            help="When the restored backup was taken (ISO 8601); only erasures from then on are repeated.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the people who are back; erase nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            since = parse_datetime(options["since"])
            if since is None:
                raise CommandError("--since must be a date and time, e.g. 2026-11-20T02:00:00+01:00.")
        try:
            for path in options["journal"]:
                try:
                    with open(path, encoding="utf-8") as journal:
                        entries = [json.loads(line) for line in journal if line.strip()]
                except (OSError, json.JSONDecodeError) as error:
                    raise CommandError(
                        f"Cannot read the journal {path}: {error.__class__.__name__}."
                    ) from None
                added = erasure_journal_import(entries=entries)
                self.stdout.write(f"{path}: {len(entries)} entries read, {added} were missing and are back.")
            outcome = erasure_replay(
                actor=Actor.system("erasure_replay"), since=since, dry_run=options["dry_run"]
            )
        except (ValidationError, ApplicationError) as error:
            raise CommandError("; ".join(getattr(error, "messages", [str(error)]))) from None
        if options["dry_run"]:
            self.stdout.write(
                f"{outcome.people} erased people are back in the database (dry run: nothing erased)."
            )
            return
        self.stdout.write(f"{outcome.people} erased people were back and are erased again.")
        for label, count in outcome.erased.items():
            self.stdout.write(f"  {label}: {count}")
        for label, why in outcome.kept:
            self.stdout.write(f"  kept {label}: {why}")
