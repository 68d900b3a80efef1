#!/usr/bin/env bash
# Install the system packages the test suite needs: Debian's Chromium (page
# tests), OpenLink Virtuoso 7 (triplestore integration tests), axe-core
# from npm (the page's accessibility audit) into the git-ignored .cache/npm,
# and the W3C SPARQL test suites (from rdflib's sdist on PyPI) into the
# git-ignored .cache/w3c-sparql. Idempotent.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v virtuoso-t >/dev/null 2>&1 || need+=(virtuoso-opensource)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install-system-packages: not root, skipping ${need[*]}; the tests that need them will skip" >&2
elif [ ${#need[@]} -gt 0 ]; then
  echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba" | debconf-set-selections
  echo "virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba" | debconf-set-selections
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # the package starts a system-wide instance; the tests start their own
  service virtuoso-opensource-7 stop >/dev/null 2>&1 || true
fi
axe="$(cd "$(dirname "$0")/.." && pwd)/.cache/npm"
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ] && command -v npm >/dev/null 2>&1; then
  npm install --silent --no-save --no-audit --no-fund --prefix "$axe" axe-core@4 >/dev/null
fi
bash "$(dirname "$0")/fetch-w3c-sparql-suite.sh" ||
  echo "install-system-packages: the W3C SPARQL test suites could not be fetched; tests/test_w3c_sparql.py will skip (fail under NTX_REQUIRE_SERVERS=1)" >&2
