#!/usr/bin/env bash
# Build tfgen's stand-in hashicorp/aws provider (rehearsal/provider, our own Go code) for
# `tfgen rehearse`. Cached under $TFGEN_TOOLS_DIR keyed by a hash of its sources, so
# every checkout with the same sources shares one build; a warm run is instant.
#
#   bash scripts/build-rehearsal-provider.sh          # build if missing, print the binary
#   eval "$(bash scripts/build-rehearsal-provider.sh --env)"   # export TFGEN_REHEARSAL_PROVIDER
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/../rehearsal/provider"
# shellcheck source=scripts/tools-common.sh
source "$here/tools-common.sh" build-rehearsal-provider "$@"

hash="$(cd "$src" && cat go.mod go.sum $(ls *.go | LC_ALL=C sort) | sha256sum | cut -c1-16)"
dest="$TOOLS_DIR/rehearsal-provider-$hash"
bin="$dest/terraform-provider-aws"

lock_cache .lock-rehearsal-provider

if [[ -x "$bin" ]] && "$bin" -version >/dev/null 2>&1; then
  log "rehearsal provider $hash: cached at $bin"
else
  start=$SECONDS
  log "rehearsal provider $hash: building from rehearsal/provider"
  mkdir -p "$dest"
  (cd "$src" && go build -ldflags "-s -w" -o "$bin.tmp" .)
  mv -f "$bin.tmp" "$bin"
  "$bin" -version >/dev/null
  log "rehearsal provider $hash: built in $((SECONDS - start)) s"
fi

if ((EMIT_ENV)); then
  printf 'export TFGEN_REHEARSAL_PROVIDER=%q\n' "$bin"
else
  echo "$bin"
fi
