#!/bin/sh
# The browser tests drive Debian's Chromium. Install it when we can (running as root, with
# apt-get) and it is missing; otherwise do nothing (the browser tests then skip).
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "Chromium is missing (/usr/bin/chromium); the browser tests will be skipped." >&2
    exit 0
fi
echo "Installing Debian's chromium for the browser tests..." >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
