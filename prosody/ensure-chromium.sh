#!/bin/sh
# Makes sure Debian's Chromium is installed for the browser tests (test/integration/html-browser.test.ts):
# installs it when running as root with apt, otherwise says in one line how to. Never fails: without
# Chromium the browser tests say why and are skipped, and everything else still runs.
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "outpost: installing chromium for the browser tests (apt-get install -y chromium)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); then exit 0; fi
  echo "outpost: could not install chromium with apt-get; the browser tests will be skipped" >&2
  exit 0
fi
echo "outpost: chromium missing, so the browser tests will be skipped; install with: sudo apt-get install -y chromium" >&2
exit 0
