#!/bin/sh
# The translation check runs makemessages, which needs GNU gettext (xgettext, msgmerge).
# Install it when we can (running as root, with apt-get) and it is missing. The compiled
# catalogue (locale/*/LC_MESSAGES/django.mo) is committed, so running the product never
# needs gettext.
set -eu
if command -v xgettext >/dev/null 2>&1 && command -v msgmerge >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "GNU gettext is missing: the translation check will fail (apt-get install gettext)." >&2
    exit 0
fi
echo "Installing gettext for the translation check..." >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gettext >/dev/null
