#!/bin/sh
# Makes sure Debian's PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed for the
# tests of the PostgreSQL job store: installs them when missing and running as root with apt,
# otherwise says in one line how to install them. The tests start a cluster of their own in a
# temporary directory; the system service is never started nor used.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "outpost: installing postgresql (apt-get install -y postgresql)..." >&2
  . "$(dirname "$0")/../prosody/apt-install.sh"
  apt_install postgresql && exit 0
  echo "outpost: could not install postgresql with apt-get" >&2
  exit 1
fi
echo "outpost: postgresql missing; install with: sudo apt-get install -y postgresql" >&2
exit 1
