#!/bin/sh
# echo.sh TEXT PAUSE - waits PAUSE seconds, then prints TEXT exactly as given.
[ "${2:-0}" = "0" ] || sleep "$2"
printf '%s' "$1"
