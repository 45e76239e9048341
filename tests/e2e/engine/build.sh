#!/usr/bin/env bash
# Builds the Pulumi CLI (and the Python language host) at a pinned version into
# a cache outside the repository, keyed by version; reuses it when present.
# Prints the bin directory on stdout.
set -euo pipefail

VERSION=v3.274.1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${DATABRICKS_AZUREML_ENGINE_CACHE:-$HOME/.cache/databricks-azureml/engine}"
BIN="$CACHE/$VERSION/bin"
LDFLAGS="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION"

log() { echo "engine: $*" >&2; }

build_pulumi() {
  [[ -x "$BIN/pulumi" ]] && return
  log "building pulumi $VERSION (slow the first time)"
  (cd "$HERE" && go build -trimpath -ldflags "$LDFLAGS" -o "$BIN/pulumi.tmp" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$BIN/pulumi.tmp" "$BIN/pulumi"
}

mkdir -p "$BIN"
start=$(date +%s)
build_pulumi
log "ready in $(($(date +%s) - start))s: $BIN"
echo "$BIN"
