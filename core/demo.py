"""Demo data, contributed by each app's ``demo.py`` and run by ``seed_demo``.

An app adds to the demo by decorating a function with ``@demo_seeder(order)``;
the subject register seeds first, then consents, requests and retention build
on it. Each seeder receives a ``DemoContext`` and must stream its rows, so
memory stays flat however many contacts are asked for.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from django.utils.module_loading import autodiscover_modules


@dataclass
class DemoContext:
    contacts: int
    interactions_per_contact: int
    now: datetime
    rng: random.Random
    out: TextIO
    # Seeders leave facts for the ones after them (id ranges, staff ids).
    facts: dict[str, Any] = field(default_factory=dict)

    def say(self, message: str) -> None:
        self.out.write(message + "\n")
        self.out.flush()


Seeder = Callable[[DemoContext], None]
_seeders: list[tuple[int, str, Seeder]] = []


def demo_seeder(order: int) -> Callable[[Seeder], Seeder]:
    def register(fn: Seeder) -> Seeder:
        _seeders.append((order, f"{fn.__module__}.{fn.__name__}", fn))
        return fn

    return register


def demo_seeders() -> list[tuple[str, Seeder]]:
    autodiscover_modules("demo")
    return [(name, fn) for _, name, fn in sorted(_seeders, key=lambda s: (s[0], s[1]))]
