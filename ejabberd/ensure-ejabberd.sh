#!/bin/sh
# Makes sure Debian's ejabberd is installed, for the tests that run Outpost's fabric on ejabberd:
# installs it when missing, running as root with apt, otherwise says in one line how to install it.
# Outpost only uses the binaries; it never starts the system service nor reads /etc/ejabberd.
if [ -x /usr/sbin/ejabberdctl ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "outpost: installing ejabberd (apt-get install -y ejabberd)..." >&2
  # policy-rc.d keeps the package from starting the system-wide ejabberd service.
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && remove_policy=1; fi
  export DEBIAN_FRONTEND=noninteractive
  (apt-get install -y -qq --no-install-recommends ejabberd >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq --no-install-recommends ejabberd >/dev/null)) || status=$?
  [ -n "${remove_policy:-}" ] && rm -f /usr/sbin/policy-rc.d
  [ -z "${status:-}" ] && [ -x /usr/sbin/ejabberdctl ] && exit 0
  echo "outpost: could not install ejabberd with apt-get" >&2
  exit 1
fi
echo "outpost: ejabberd missing; install with: sudo apt-get install -y ejabberd" >&2
exit 1
