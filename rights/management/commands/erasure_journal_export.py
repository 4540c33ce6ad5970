"""Write the erasure journal to a file (JSON lines of keyed hashes), to keep beside the backups."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from rights.services import erasure_journal_export


class Command(BaseCommand):
    help = (
        "Export the erasure journal (keyed hashes only, no addresses) as JSON lines, so that "
        "erasure_replay --journal FILE can repeat every erasure after a restore that rolled the journal back."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output", "-o", default="-", help="File to write; '-' (default) for standard output."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target = options["output"]
        out = sys.stdout if target == "-" else open(target, "w", encoding="utf-8")  # noqa: SIM115
        count = 0
        try:
            for entry in erasure_journal_export():
                out.write(json.dumps(entry) + "\n")
                count += 1
        finally:
            if out is not sys.stdout:
                out.close()
        self.stderr.write(f"{count} journal entries exported.")
