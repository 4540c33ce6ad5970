"""Nothing deletes personal data outside the removal engine (issue 8: "grep finds no .delete()").

The code is walked with ``ast``. Flagged, outside ``core/removal/``: every
argument-less ``.delete()`` on a chain that starts at a model that holds personal
data (``Contact.objects.filter(...).delete()``, ``Contact._base_manager...``),
every ``._raw_delete(...)`` and every ``Collector``, unless whitelisted below
with its reason. Models without personal data (statistics, dashboard figures) may
delete their own rows; stored idempotency answers hold addresses and go through the
engine like the rest.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

from core.registry import registry

ROOT = Path(settings.BASE_DIR)
SKIPPED_PARTS = {".venv", "tests", "migrations", "bench", "bin", "node_modules", ".git"}

# (path, enclosing function): why it may delete. Empty: every removal of personal data goes
# through core.removal (the consent ledger, unconfirmed sign-ups and stored idempotency
# answers included). An entry is a known exception and needs its reason.
WHITELIST: dict[tuple[str, str], str] = {}


def _personal_model_names() -> set[str]:
    """Class names of the models with personal data, and every module-level alias of them in the
    project (``Request = DataSubjectRequest``), so that a renamed import is no way round the test."""
    names = {d.model.__name__ for d in registry.personal()}
    for path in _project_files():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Name)
                and node.value.id in names
                and all(isinstance(t, ast.Name) for t in node.targets)
            ):
                names |= {t.id for t in node.targets}
    return names


def _chain_root(node: ast.AST) -> str | None:
    """The name a call chain starts at: ``Contact`` in ``Contact.objects.filter(x).delete()``."""
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None


def _is_delete(func: ast.AST, personal: set[str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id == "Collector"
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "_raw_delete":
        return True
    return func.attr == "delete" and _chain_root(func.value) in personal


def _deletes(path: Path, personal: set[str]) -> list[tuple[str, int]]:
    """(enclosing function, line) of each delete of personal data in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    # ``from .models import DataSubjectRequest as Request``: the alias is the model too.
    aliases = {
        alias.asname: alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.asname and alias.name in personal
    }
    personal = personal | set(aliases)

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Call) and _is_delete(child.func, personal):
                found.append((function, child.lineno))
            visit(child, name)

    visit(tree, "<module>")
    return found


def _project_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIPPED_PARTS & set(relative.parts):
            continue
        if relative.parts[:2] == ("core", "removal"):
            continue
        files.append(path)
    return files


def test_the_walk_finds_a_delete_where_there_is_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(storage):\n"
        "    storage.delete('x')\n"
        "    Statistic.objects.all().delete()\n"
        "    Contact.objects.filter(a=1).delete()\n"
    )
    assert _deletes(sample, {"Contact"}) == [("f", 4)]


def test_no_delete_of_personal_data_outside_the_removal_engine():
    personal = _personal_model_names()
    assert {"Contact", "Interaction", "JobApplication"} <= personal
    offenders = []
    used = set()
    for path in _project_files():
        relative = path.relative_to(ROOT).as_posix()
        for function, line in _deletes(path, personal):
            if (relative, function) in WHITELIST:
                used.add((relative, function))
                continue
            offenders.append(f"{relative}:{line} in {function}()")
    assert offenders == [], "delete outside core.removal: " + ", ".join(offenders)
    # A whitelist entry whose delete is gone goes too, so the list stays tiny.
    assert set(WHITELIST) - used == set()
