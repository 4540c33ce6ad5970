"""Writes django.po of the removal engine's words (core.removal) and compiles it.

Run from anywhere: python core/locale/nb/make_po.py. Plural forms need msgid_plural,
which bin/fill_po.py does not write, so the catalogue is kept here as data.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
SINGLE = json.loads((HERE / "translations.json").read_text(encoding="utf-8"))
PLURAL = json.loads((HERE / "plurals.json").read_text(encoding="utf-8"))

HEADER = """msgid ""
msgstr ""
"Project-Id-Version: personvern core\\n"
"Language: nb\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"
"""


def q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def main() -> None:
    blocks = [HEADER]
    for msgid, msgstr in sorted(SINGLE.items()):
        blocks.append(f"msgid {q(msgid)}\nmsgstr {q(msgstr)}\n")
    for entry in sorted(PLURAL, key=lambda e: e["msgid"]):
        blocks.append(
            f"msgid {q(entry['msgid'])}\nmsgid_plural {q(entry['msgid_plural'])}\n"
            f"msgstr[0] {q(entry['one'])}\nmsgstr[1] {q(entry['other'])}\n"
        )
    po = HERE / "LC_MESSAGES" / "django.po"
    po.write_text("\n".join(blocks), encoding="utf-8")
    subprocess.run(["msgfmt", "--check", "-o", str(po.with_suffix(".mo")), str(po)], check=True)  # noqa: S603, S607  (a fixed command, run by hand)


if __name__ == "__main__":
    main()
