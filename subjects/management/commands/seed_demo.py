from __future__ import annotations

import random
import resource
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from core.audit import Actor, audit_record
from core.demo import DemoContext, demo_seeders
from subjects.models import Contact


class Command(BaseCommand):
    help = "Load realistic Norwegian demo data (organisations, contacts, interactions, ...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=2000)
        parser.add_argument("--interactions-per-contact", type=int, default=5)
        parser.add_argument("--seed", type=int, default=2018)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the register already has contacts.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["contacts"] < 1:
            raise CommandError("--contacts must be at least 1.")
        if options["interactions_per_contact"] < 0:
            raise CommandError("--interactions-per-contact cannot be negative.")
        if options["if_empty"] and Contact.objects.exists():
            self.stdout.write("The register already has contacts; leaving it as it is.")
            return
        ctx = DemoContext(
            contacts=options["contacts"],
            interactions_per_contact=options["interactions_per_contact"],
            now=timezone.now(),
            rng=random.Random(options["seed"]),
            out=self.stdout,
        )
        started = time.perf_counter()
        for name, seeder in demo_seeders():
            self.stdout.write(f"{name}:")
            # Each part in its own transaction: a failure leaves no half-seeded part.
            with transaction.atomic():
                seeder(ctx)
        audit_record(actor=Actor.system("seed_demo"), action="demo.seed", target_type="subjects.contact")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data loaded in {time.perf_counter() - started:.1f} s (peak memory {peak_mb:.0f} MB)."
            )
        )
