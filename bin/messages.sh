#!/usr/bin/env bash
# Refresh the project-level bokmål catalogue (core, subjects, config, templates/): extract,
# fill from locale/nb/translations.json, compile. Apps with their own locale/ run makemessages
# from inside their folder (see README, "Translations").
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py makemessages -l nb --no-obsolete \
    --ignore='consent/*' --ignore='requests_dsar/*' --ignore='rights/*' --ignore='retention/*' \
    --ignore='.venv/*' --ignore='tests/*' --ignore='bench/*' --ignore='var/*' -v0
.venv/bin/python bin/fill_po.py locale/nb/LC_MESSAGES/django.po locale/nb/translations.json
msgfmt --check-format -o locale/nb/LC_MESSAGES/django.mo locale/nb/LC_MESSAGES/django.po
