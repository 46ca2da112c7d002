#!/bin/sh
# Installs the benchmark's peer, Celery 5 + RabbitMQ, from Debian packages when they are missing.
# Needs root and apt-get. The bench only runs private copies of RabbitMQ and Celery, so the
# packages must not start the system-wide RabbitMQ service: a temporary policy-rc.d forbids it.
set -u
PACKAGES="python3-celery rabbitmq-server"

installed() {
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && /usr/bin/python3 -c 'import celery' >/dev/null 2>&1
}

if installed; then echo "bench: Celery and RabbitMQ are already installed" >&2; exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench: the peer is missing; install it as root with: apt-get install -y $PACKAGES" >&2
  exit 1
fi
for package in $PACKAGES; do
  if ! apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    echo "bench: apt has no candidate for $package; run apt-get update first" >&2
    exit 1
  fi
done

echo "bench: installing $PACKAGES ..." >&2
remove_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && remove_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
status=0
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null || status=$?
[ -n "$remove_policy" ] && rm -f /usr/sbin/policy-rc.d
if [ "$status" != "0" ] || ! installed; then
  echo "bench: could not install $PACKAGES with apt-get" >&2
  exit 1
fi
echo "bench: peer installed" >&2
