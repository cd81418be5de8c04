#!/usr/bin/env bash
# Build tfgen's stand-in providers (our own Go code) for `tfgen rehearse`:
#   rehearsal/provider  hashicorp/aws stand-in of the default rehearsal ($TFGEN_REHEARSAL_PROVIDER)
#   rehearsal/random    hashicorp/random stand-in of `--provider real`, for the modules that
#                       need random and no mirror holds ($TFGEN_REHEARSAL_RANDOM)
#   rehearsal/external  hashicorp/external stand-in, likewise ($TFGEN_REHEARSAL_EXTERNAL)
#   rehearsal/local     hashicorp/local stand-in, likewise ($TFGEN_REHEARSAL_LOCAL)
#   rehearsal/null      hashicorp/null stand-in, likewise ($TFGEN_REHEARSAL_NULL)
#   rehearsal/awsutils  cloudposse/awsutils stand-in, likewise ($TFGEN_REHEARSAL_AWSUTILS)
#   rehearsal/helm      hashicorp/helm stand-in, likewise ($TFGEN_REHEARSAL_HELM)
#   rehearsal/kubernetes  hashicorp/kubernetes stand-in, likewise ($TFGEN_REHEARSAL_KUBERNETES)
# Cached under $TFGEN_TOOLS_DIR keyed by a hash of each one's sources, so every checkout
# with the same sources shares one build; a warm run is instant.
#
#   bash scripts/build-rehearsal-provider.sh          # build if missing, print the aws stand-in
#   eval "$(bash scripts/build-rehearsal-provider.sh --env)"   # export every variable
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/tools-common.sh
source "$here/tools-common.sh" build-rehearsal-provider "$@"

lock_cache .lock-rehearsal-provider

# build DIR NAME: build rehearsal/DIR into the cache and print the binary.
build() {
  local src="$here/../rehearsal/$1" name="$2"
  local hash dest bin start
  hash="$(cd "$src" && cat go.mod go.sum $(ls *.go | LC_ALL=C sort) | sha256sum | cut -c1-16)"
  dest="$TOOLS_DIR/rehearsal-$name-$hash"
  [[ "$name" == provider ]] && dest="$TOOLS_DIR/rehearsal-provider-$hash"  # the path it always had
  bin="$dest/terraform-provider-${3}"
  if [[ -x "$bin" ]] && "$bin" -version >/dev/null 2>&1; then
    log "rehearsal $name $hash: cached at $bin"
  else
    start=$SECONDS
    log "rehearsal $name $hash: building from rehearsal/$1"
    mkdir -p "$dest"
    (cd "$src" && go build -ldflags "-s -w" -o "$bin.tmp" .)
    mv -f "$bin.tmp" "$bin"
    "$bin" -version >/dev/null
    log "rehearsal $name $hash: built in $((SECONDS - start)) s"
  fi
  built="$bin"
}

build provider provider aws
aws_bin="$built"
standin_env=""
for name in random external local null awsutils helm kubernetes; do
  build "$name" "$name" "$name"
  standin_env+="$(printf 'export TFGEN_REHEARSAL_%s=%q' "${name^^}" "$built")"$'\n'
done

if ((EMIT_ENV)); then
  printf 'export TFGEN_REHEARSAL_PROVIDER=%q\n%s' "$aws_bin" "$standin_env"
else
  echo "$aws_bin"
fi
