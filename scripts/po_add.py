#!/usr/bin/env python3
"""Add msgids to the three catalogues (only those missing): po_add.py FILE.tsv
Each TSV line: msgid<TAB>zh-Hans<TAB>zh-Hant<TAB>en (en may be empty = msgid)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kiosk.i18n import parse_po  # noqa: E402

LANGS = [("zh_Hans", 1), ("zh_Hant", 2), ("en", 3)]


def q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


rows = [line.rstrip("\n").split("\t") for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines() if line.strip()]
for lang, col in LANGS:
    po = ROOT / "assets" / "locale" / lang / "LC_MESSAGES" / "onestop.po"
    text = po.read_text(encoding="utf-8")
    have = parse_po(text)
    add = []
    for r in rows:
        msgid = r[0]
        if msgid in have:
            continue
        val = r[col] if len(r) > col and r[col] else msgid
        add.append(f"msgid {q(msgid)}\nmsgstr {q(val)}\n")
        have[msgid] = val
    if add:
        po.write_text(text.rstrip("\n") + "\n\n" + "\n".join(add), encoding="utf-8")
    print(lang, "added", len(add))
