#!/usr/bin/env bash
# Installs what a fresh machine lacks: PostGIS for the system PostgreSQL, the project's virtualenv,
# and (with --browser) Debian's Chromium for the browser tests. Safe to run again; prints progress.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WANT_BROWSER=0
for arg in "$@"; do [ "$arg" = "--browser" ] && WANT_BROWSER=1; done
say() { echo "[bootstrap] $*" >&2; }

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: $* (run as root, or: sudo apt-get install -y $*)"; return 1
  fi
  if [ ! -f /tmp/.jogo-apt-updated ]; then
    say "apt-get update"; DEBIAN_FRONTEND=noninteractive apt-get update -qq && touch /tmp/.jogo-apt-updated
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_major() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bindir" ] && basename "$(dirname "$bindir")"
}

MAJOR=$(pg_major || true)
if [ -z "$MAJOR" ]; then
  apt_install postgresql
  MAJOR=$(pg_major)
fi
if [ ! -f "/usr/share/postgresql/$MAJOR/extension/postgis.control" ]; then
  apt_install "postgresql-$MAJOR-postgis-3"
fi

if [ "$WANT_BROWSER" = 1 ] && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium chromium-driver || say "chromium unavailable: browser tests will be skipped"
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  say "creating virtualenv .venv"
  "$PY" -m venv .venv
fi
STAMP=.venv/.jogo-installed
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  say "installing jogo-dispatch and its dependencies into .venv (first run takes a minute)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$STAMP"
fi
say "ready ($ROOT/.venv, PostgreSQL $MAJOR with PostGIS)"
