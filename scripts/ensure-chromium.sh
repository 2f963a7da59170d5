#!/usr/bin/env bash
# Installs Debian's chromium package when no chromium is present: the dashboard's browser test
# (tests/browser) drives it with Playwright (executable_path; Playwright's own browser downloads are not
# used). Quick when chromium is already installed; as ensure-postgresql.sh, only root installs.
set -euo pipefail
if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "chromium is not installed and this is not root: install Debian's 'chromium' package to run the" \
       "dashboard's browser test (outside CI it is skipped without it)" >&2
  exit 0
fi
echo "installing chromium (Debian's chromium package)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# fonts-dejavu-core: text in the screenshots (chromium recommends fonts, which --no-install-recommends skips).
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
command -v chromium >/dev/null
