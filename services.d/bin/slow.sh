#!/bin/sh
# slow.sh --steps=N --interval=S - one step every S seconds, progress as JSON lines.
steps=10 interval=0.5
for arg in "$@"; do
  case "$arg" in
    --steps=*) steps="${arg#--steps=}" ;;
    --interval=*) interval="${arg#--interval=}" ;;
  esac
done
i=1
while [ "$i" -le "$steps" ]; do
  sleep "$interval"
  printf '{"progress":%d,"message":"step %d of %d"}\n' $((i * 100 / steps)) "$i" "$steps"
  i=$((i + 1))
done
printf '{"steps":%d}\n' "$steps"
