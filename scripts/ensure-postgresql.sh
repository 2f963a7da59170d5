#!/usr/bin/env bash
# Installs Debian's postgresql package when no PostgreSQL server binaries are present (the test suite and
# the bench start throwaway clusters of their own; nothing is started here). Quick when already installed.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "PostgreSQL is not installed and this is not root: install Debian's 'postgresql' package to run" \
       "the PostgreSQL tests (they are skipped without it outside CI)" >&2
  exit 0
fi
echo "installing PostgreSQL (Debian's postgresql package)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# policy-rc.d keeps the package from starting its own cluster service: tests start their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.meterd
chmod +x /usr/sbin/policy-rc.d.meterd
if [ ! -e /usr/sbin/policy-rc.d ]; then cp /usr/sbin/policy-rc.d.meterd /usr/sbin/policy-rc.d; created=1; fi
apt-get install -y -q --no-install-recommends postgresql
rm -f /usr/sbin/policy-rc.d.meterd
if [ "${created:-0}" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
