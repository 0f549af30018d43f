#!/bin/sh
# The app cdktf.json names, for both CLIs (`cdktf` and CDK Terrain's `cdktn` read the same file): main.py in
# the virtualenv of the toolchain TOOLCHAIN chooses (cdktf, the default, or cdktn; docs/toolchain.md).
set -eu
case "${TOOLCHAIN:-cdktf}" in
  cdktf) venv=.venv ;;
  cdktn) venv=.venv-cdktn ;;
  *) echo "TOOLCHAIN=${TOOLCHAIN}: allowed: cdktf, cdktn" >&2; exit 2 ;;
esac
if [ ! -x "$venv/bin/python" ]; then
  echo "TOOLCHAIN=${TOOLCHAIN:-cdktf}: $venv is not set up; run: TOOLCHAIN=${TOOLCHAIN:-cdktf} make setup" >&2
  exit 2
fi
exec "$venv/bin/python" main.py "$@"
