"""Every user-facing string is translatable, and the English catalog covers them all."""
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_every_message_has_an_english_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F", str(ROOT / "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "-k", "N_", "-o", str(pot), str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with (ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        have = {m.id for m in read_po(f, locale="en") if m.id and m.string}
    missing = sorted(wanted - have)
    assert not missing, f"{len(missing)} messages lack an English translation (run scripts/i18n.sh): {missing[:20]}"
