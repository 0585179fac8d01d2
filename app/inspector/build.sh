#!/usr/bin/env bash
# Vendor the graph-drawing library into the package, so a fresh install needs no npm.
# Re-run after changing the pinned version; commit the copied files (and the license beside them).
set -euo pipefail
CYTOSCAPE_VERSION="3.34.4"

here="$(cd "$(dirname "$0")" && pwd)"
vendor="$here/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
# npm pack downloads the published tarball and checks its registry integrity hash.
npm pack --silent "cytoscape@${CYTOSCAPE_VERSION}" >/dev/null
tar -xzf "cytoscape-${CYTOSCAPE_VERSION}.tgz"
mkdir -p "$vendor"
cp package/dist/cytoscape.min.js "$vendor/cytoscape.min.js"
cp package/LICENSE "$vendor/cytoscape.LICENSE"
printf 'cytoscape %s (npm) sha256 %s\n' "$CYTOSCAPE_VERSION" \
  "$(sha256sum "$vendor/cytoscape.min.js" | cut -d' ' -f1)" > "$vendor/VERSIONS"
echo "vendored cytoscape ${CYTOSCAPE_VERSION} into $vendor"
