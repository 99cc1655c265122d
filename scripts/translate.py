"""Fill empty msgstr entries of the English catalog from a {msgid: text} dict in a Python
file: `.venv/bin/python scripts/translate.py FILE.py` (FILE defines EN)."""
import runpy
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "app/translations/en/LC_MESSAGES/messages.po"


def main(path: str) -> None:
    translations = runpy.run_path(path)["EN"]
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    filled = 0
    for message in catalog:
        if message.id and not message.string and message.id in translations:
            message.string = translations[message.id]
            filled += 1
    with PO.open("wb") as f:
        write_po(f, catalog, width=120)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"filled {filled}; still empty: {len(missing)}")
    for msgid in missing:
        print("  ", msgid)


if __name__ == "__main__":
    main(sys.argv[1])
