#!/bin/sh
# fail.sh - always fails, the way a real program does: a message on stderr and a non-zero exit.
echo "reading input" >&2
echo "error: input file is corrupt" >&2
exit 3
