# Shared by the build scripts of the real-client tools (build-tools.sh,
# build-ci-judges.sh, build-rehearsal-provider.sh); sourced, not run.
#   source "$(dirname "${BASH_SOURCE[0]}")/tools-common.sh" NAME "$@"
# NAME names the script in messages. Sets TOOLS_DIR (the per-version cache, outside any
# clone), EMIT_ENV (1 with --env: progress goes to stderr, stdout carries `export`
# lines), log, and a current Go first on PATH; `lock_cache FILE` serialises builds.

tool_script="$1"
TOOLS_DIR="${TFGEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfgen/tools}"
EMIT_ENV=0
if [[ "${2:-}" == "--env" ]]; then EMIT_ENV=1; fi

log() { if ((EMIT_ENV)); then echo "$*" >&2; else echo "$*"; fi; }

# Prefer the toolchain at /usr/local/go: Debian's golang-go (Go 1.19) may sit earlier
# on PATH and cannot build modules that need a current Go.
if [[ -x /usr/local/go/bin/go ]]; then PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  echo "$tool_script: go is not on PATH; install Go 1.24+ (the judges are built from source)" >&2
  exit 2
fi

# GOFLAGS from the environment (for example -mod=vendor) must not change what is built.
export GOFLAGS="-buildvcs=false -trimpath"
export CGO_ENABLED=0

# lock_cache FILE: one build at a time per cache; a second caller (another clone, a
# parallel test run) waits for the first and then finds the binaries cached.
lock_cache() {
  mkdir -p "$TOOLS_DIR"
  exec {tool_lock_fd}>"$TOOLS_DIR/$1"
  if ! flock -n "$tool_lock_fd"; then
    log "$tool_script: waiting for another build of the tools in $TOOLS_DIR to finish"
    flock "$tool_lock_fd"
  fi
}

# unlock_cache: let other builds in (before this script runs another build script).
unlock_cache() { flock -u "$tool_lock_fd"; }
