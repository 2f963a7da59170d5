#!/usr/bin/env bash
# Installs Debian's postgresql package when no PostgreSQL server binaries are present. The test suite and
# the bench start throwaway clusters of their own (tests/pgcluster.py); nothing is started here. Quick
# when PostgreSQL is already installed.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "PostgreSQL is not installed and this is not root: install Debian's 'postgresql' package to run the" \
       "PostgreSQL backend's tests (outside CI they are skipped without it)" >&2
  exit 0
fi
echo "installing PostgreSQL (Debian's postgresql package)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Keep the package from starting its own cluster service (the tests start theirs): a policy-rc.d that
# denies service starts, only while installing, and only if the machine has none.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -q --no-install-recommends postgresql
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
