#!/bin/sh
# Usage: expect_exit.sh CODE COMMAND [ARGS...]
# Runs COMMAND (its output passes through for ctest's regex checks) and
# succeeds only when it exits with CODE.
expected=$1
shift
"$@"
rc=$?
if [ "$rc" -ne "$expected" ]; then
  echo "expect_exit: '$*' exited $rc, expected $expected" >&2
  exit 1
fi
exit 0
