#!/usr/bin/env bash
# Put the W3C SPARQL 1.0 and 1.1 test suites (manifests, queries, data,
# expected results) in the git-ignored .cache/w3c-sparql, for
# tests/test_w3c_sparql.py. They come from rdflib's source distribution on
# PyPI, which ships them under test/data/suites/w3c: pinned by version and
# checked against its SHA-256 (pip --require-hashes, then sha256sum).
# Idempotent: nothing is fetched when the pinned copy is in place.
set -euo pipefail
version=7.6.0
sha256=6c831288d5e4a5a7ece85d0ccde9877d512a3d0f02d7c06455d00d6d0ea379df
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$root/.cache/w3c-sparql"
stamp="rdflib-$version.tar.gz sha256:$sha256"
if [ -f "$cache/SOURCE" ] && [ "$(cat "$cache/SOURCE")" = "$stamp" ]; then
  exit 0
fi
python="${PYTHON:-$(command -v python || command -v python3)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "rdflib==$version --hash=sha256:$sha256" >"$work/requirements.txt"
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: --require-hashes \
  -r "$work/requirements.txt" -d "$work/dl"
sdist="$work/dl/rdflib-$version.tar.gz"
echo "$sha256  $sdist" | sha256sum --check --quiet
inner="rdflib-$version/test/data/suites/w3c"
tar -xzf "$sdist" -C "$work" "$inner/sparql11" "$inner/dawg-data-r2"
rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
mv "$work/$inner/sparql11" "$work/$inner/dawg-data-r2" "$cache.tmp/"
echo "$stamp" >"$cache.tmp/SOURCE"
rm -rf "$cache" && mv "$cache.tmp" "$cache"
