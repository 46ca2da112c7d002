#!/bin/sh
# Makes sure Debian's GDAL command-line programs are installed for the GDAL tests
# (test/integration/gdal.test.ts) and the GDAL examples in services.d/: installs gdal-bin when
# running as root with apt, otherwise says in one line how to. Never fails: without GDAL those
# tests say why and are skipped, and everything else still runs.
command -v gdalinfo >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "outpost: installing gdal-bin for the GDAL tests (apt-get install -y gdal-bin)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get install -y -qq gdal-bin >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq gdal-bin >/dev/null); then exit 0; fi
  echo "outpost: could not install gdal-bin with apt-get; the GDAL tests will be skipped" >&2
  exit 0
fi
echo "outpost: gdal-bin missing, so the GDAL tests will be skipped; install with: sudo apt-get install -y gdal-bin" >&2
exit 0
