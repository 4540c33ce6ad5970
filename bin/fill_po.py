"""Fill msgstr entries of a .po file from a JSON dictionary {msgid: msgstr}.

Used to keep translations in reviewable JSON beside the catalogue:
    python bin/fill_po.py locale/nb/LC_MESSAGES/django.po locale/nb/translations.json
Only entries whose msgstr is empty are filled; a missing translation is listed.
"""

from __future__ import annotations

import json
import sys


def unquote(line: str) -> str:
    return json.loads(line.strip())


def main(po_path: str, json_path: str) -> int:
    with open(json_path, encoding="utf-8") as fh:
        translations = json.load(fh)
    with open(po_path, encoding="utf-8") as fh:
        blocks = fh.read().split("\n\n")
    missing = []
    out = []
    for block in blocks:
        lines = block.split("\n")
        try:
            i = next(n for n, line in enumerate(lines) if line.startswith("msgid "))
            j = next(n for n, line in enumerate(lines) if line.startswith("msgstr "))
        except StopIteration:
            out.append(block)
            continue
        msgid = unquote(lines[i][6:]) + "".join(unquote(line) for line in lines[i + 1 : j])
        msgstr = unquote(lines[j][7:]) + "".join(
            unquote(line) for line in lines[j + 1 :] if line.startswith('"')
        )
        if msgid and not msgstr:
            if msgid in translations:
                text = json.dumps(translations[msgid], ensure_ascii=False)
                lines = [*lines[:j], f"msgstr {text}"]
                lines = [line for line in lines if line != "#, fuzzy"]
            else:
                missing.append(msgid)
        out.append("\n".join(lines))
    with open(po_path, "w", encoding="utf-8") as fh:
        fh.write("\n\n".join(out))
    for msgid in missing:
        print(f"missing: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
