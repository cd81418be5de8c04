#!/usr/bin/env bash
# Build HashiCorp's hclfmt from Debian packages into .cache/bin/hclfmt.
# Run from the repository root (as root, or with apt packages already installed).
# Idempotent: exits 0 immediately if .cache/bin/hclfmt already exists and runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=".cache/bin/hclfmt"

if [[ -x "$BIN" ]] && printf 'a = 1\n' | "$BIN" >/dev/null 2>&1; then
  echo "hclfmt already built: $BIN"
  exit 0
fi

PKGS=(golang-go golang-github-hashicorp-hcl-v2-dev)
missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  SUDO=""
  if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

mkdir -p .cache/bin .cache/go
GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE="$PWD/.cache/go" \
  go build -o "$BIN" github.com/hashicorp/hcl/v2/cmd/hclfmt

printf 'a = 1\n' | "$BIN" >/dev/null
echo "built $BIN"
