#!/usr/bin/env bash
# Refresh the English catalog from the Chinese message ids in the code and templates.
# Then translate the new empty msgstr entries in app/translations/en/LC_MESSAGES/messages.po.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ -o /tmp/wuye-messages.pot .
if [ -f app/translations/en/LC_MESSAGES/messages.po ]; then
  .venv/bin/pybabel update --no-fuzzy-matching -i /tmp/wuye-messages.pot -d app/translations -l en
else
  .venv/bin/pybabel init -i /tmp/wuye-messages.pot -d app/translations -l en
fi
