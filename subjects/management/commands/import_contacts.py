from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.audit import Actor
from subjects.models import Contact
from subjects.services import IMPORT_COLUMNS, contacts_import


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file with the columns "
        + ", ".join(IMPORT_COLUMNS)
        + ". All rows or none: any bad row stops the import and is reported by row and field."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_file", type=Path)
        parser.add_argument("--source-type", required=True, choices=Contact.SourceType.values)
        parser.add_argument("--source-name", default="")
        parser.add_argument(
            "--source-attests-consent",
            action="store_true",
            help="The source confirms each person agreed that it may share their data with us.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with options["csv_file"].open(newline="", encoding="utf-8-sig") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise CommandError(f"Cannot read the file: {error.__class__.__name__}.") from None
        try:
            result = contacts_import(
                rows=rows,
                source_type=options["source_type"],
                source_name=options["source_name"],
                source_attests_consent=options["source_attests_consent"],
                actor=Actor.system("import_contacts"),
            )
        except ValidationError as error:
            raise CommandError("Nothing was imported:\n  " + "\n  ".join(error.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.created} new contacts, filled in {result.updated} existing ones, "
                f"created {result.organisations_created} organisations."
            )
        )
