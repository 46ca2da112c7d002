# Sourced by the ensure-*.sh scripts: `apt_install PACKAGE…` installs Debian packages without
# starting the services they bring (policy-rc.d), updating the package lists only when needed.
# Returns non-zero when apt-get failed.
apt_install() {
  # policy-rc.d keeps the packages from starting system-wide services.
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && remove_policy=1; fi
  export DEBIAN_FRONTEND=noninteractive
  status=0
  # "$@" one word per package.
  (apt-get install -y -qq "$@" >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq "$@" >/dev/null)) || status=$?
  [ -n "${remove_policy:-}" ] && rm -f /usr/sbin/policy-rc.d
  return "$status"
}
