#!/bin/sh
# Makes sure Debian's Prosody and the openssl CLI (which makes `outpost dev`'s certificate) are
# installed: installs what is missing when running as root with apt, otherwise says in one line
# how to install it. Outpost only uses the binaries; it never starts the system service nor reads
# /etc/prosody.
missing=""
command -v prosody >/dev/null 2>&1 || [ -x /usr/bin/prosody ] || missing="prosody"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
missing="${missing# }"
if [ -z "$missing" ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "outpost: installing $missing (apt-get install -y $missing)..." >&2
  . "$(dirname "$0")/apt-install.sh"
  # $missing is unquoted on purpose: one word per package.
  apt_install $missing && exit 0
  echo "outpost: could not install $missing with apt-get" >&2
  exit 1
fi
echo "outpost: $missing missing; install with: sudo apt-get install -y $missing" >&2
exit 1
