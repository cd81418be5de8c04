#!/usr/bin/env bash
# Build the real-client judges from their Go modules: Terragrunt, OpenTofu and
# HashiCorp's hclfmt. Tests, `tfgen rehearse` and contributors use them; installing
# and running tfgen itself never needs Go.
#
#   bash scripts/build-tools.sh            # build what is missing, print the bin dir
#   eval "$(bash scripts/build-tools.sh --env)"   # export TERRAGRUNT, TOFU, HCLFMT
#
# Builds are cached by version under $TFGEN_TOOLS_DIR (default
# ${XDG_CACHE_HOME:-~/.cache}/tfgen/tools), outside any clone, so every checkout
# and CI run on one machine shares them: a warm run costs well under a second.
# Terragrunt and OpenTofu carry `replace` directives in their go.mod, which
# `go install module@version` refuses, so each module is downloaded with
# `go mod download`, copied out of the read-only module cache and built in place.
set -euo pipefail

TERRAGRUNT_VERSION="${TERRAGRUNT_VERSION:-v1.1.3}"
TOFU_VERSION="${TOFU_VERSION:-v1.12.6}"
HCL_VERSION="${HCL_VERSION:-v2.24.0}"

# shellcheck source=scripts/tools-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools-common.sh" build-tools "$@"
lock_cache .lock

# module_dir MODULE VERSION: download the module source and print its directory.
module_dir() {
  go mod download -json "$1@$2" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Dir"]) if "Dir" in d else sys.exit(d.get("Error", "no Dir"))'
}

# build NAME VERSION MODULE PACKAGE LDFLAGS CHECK...: build PACKAGE of MODULE@VERSION into
# $TOOLS_DIR/NAME-VERSION/NAME unless a working binary is already there.
build() {
  local name="$1" version="$2" module="$3" package="$4" ldflags="$5"
  shift 5
  local dest="$TOOLS_DIR/$name-$version"
  local bin="$dest/$name"
  if [[ -x "$bin" ]] && "$bin" "$@" >/dev/null 2>&1; then
    log "$name $version: cached at $bin"
    return
  fi
  local start=$SECONDS
  log "$name $version: building from $module@$version (a cold build takes minutes)"
  local src work
  src="$(module_dir "$module" "$version")"
  work="$(mktemp -d "${TMPDIR:-/tmp}/tfgen-build-$name.XXXXXX")"
  trap 'rm -rf "$work"' RETURN
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  mkdir -p "$dest"
  (cd "$work" && go build -ldflags "$ldflags" -o "$bin.tmp" "$package")
  mv -f "$bin.tmp" "$bin"
  "$bin" "$@" >/dev/null
  log "$name $version: built in $((SECONDS - start)) s"
}

build terragrunt "$TERRAGRUNT_VERSION" github.com/gruntwork-io/terragrunt . \
  "-s -w -X github.com/gruntwork-io/terragrunt/internal/version.Version=$TERRAGRUNT_VERSION" \
  --version
build tofu "$TOFU_VERSION" github.com/opentofu/opentofu ./cmd/tofu \
  "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
  version

# hclfmt has no replace directives; build it from a throwaway module that requires hcl.
hclfmt_dest="$TOOLS_DIR/hclfmt-$HCL_VERSION"
if [[ -x "$hclfmt_dest/hclfmt" ]] && printf 'a = 1\n' | "$hclfmt_dest/hclfmt" >/dev/null 2>&1; then
  log "hclfmt $HCL_VERSION: cached at $hclfmt_dest/hclfmt"
else
  start=$SECONDS
  log "hclfmt $HCL_VERSION: building from github.com/hashicorp/hcl/v2@$HCL_VERSION"
  mkdir -p "$hclfmt_dest"
  GOBIN="$hclfmt_dest" go install "github.com/hashicorp/hcl/v2/cmd/hclfmt@$HCL_VERSION"
  printf 'a = 1\n' | "$hclfmt_dest/hclfmt" >/dev/null
  log "hclfmt $HCL_VERSION: built in $((SECONDS - start)) s"
fi

# Terragrunt looks for `tofu` (then `terraform`) on PATH; one bin directory holds all three.
bin_dir="$TOOLS_DIR/bin-$TERRAGRUNT_VERSION-$TOFU_VERSION-$HCL_VERSION"
mkdir -p "$bin_dir"
ln -sfn "$TOOLS_DIR/terragrunt-$TERRAGRUNT_VERSION/terragrunt" "$bin_dir/terragrunt"
ln -sfn "$TOOLS_DIR/tofu-$TOFU_VERSION/tofu" "$bin_dir/tofu"
ln -sfn "$hclfmt_dest/hclfmt" "$bin_dir/hclfmt"

# tfgen's stand-in AWS provider for `tfgen rehearse` (our own Go code, keyed by its sources).
rehearsal_env=""
if [[ -d "$(dirname "${BASH_SOURCE[0]}")/../rehearsal/provider" ]]; then
  unlock_cache
  if ((EMIT_ENV)); then
    rehearsal_env="$(bash "$(dirname "${BASH_SOURCE[0]}")/build-rehearsal-provider.sh" --env)"
  else
    bash "$(dirname "${BASH_SOURCE[0]}")/build-rehearsal-provider.sh" >/dev/null
  fi
fi

if ((EMIT_ENV)); then
  [[ -n "$rehearsal_env" ]] && echo "$rehearsal_env"
  printf 'export TERRAGRUNT=%q\nexport TOFU=%q\nexport HCLFMT=%q\nexport TFGEN_TOOLS_BIN=%q\n' \
    "$bin_dir/terragrunt" "$bin_dir/tofu" "$bin_dir/hclfmt" "$bin_dir"
else
  echo "$bin_dir"
fi
