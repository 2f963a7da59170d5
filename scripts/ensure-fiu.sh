#!/usr/bin/env bash
# Installs Debian's fiu-utils (fiu-run and libfiu, userspace fault injection) when fiu-run is missing: the
# storage fault tests (tests/api/test_storage_faults.py) run meterd under it. Quick when it is installed.
set -euo pipefail
if command -v fiu-run >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "fiu-run is not installed and this is not root: install Debian's 'fiu-utils' package to run the" \
       "storage fault tests (outside CI they are skipped without it)" >&2
  exit 0
fi
echo "installing fiu-utils (Debian's userspace fault injection tools)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends fiu-utils
command -v fiu-run >/dev/null
