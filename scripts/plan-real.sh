#!/usr/bin/env bash
# Plan every unit of a tfgen project with the real hashicorp/aws provider (issue 23's
# judge): `tfgen rehearse --provider real --plan-only` with the pinned registry modules
# served from 127.0.0.1 as a module registry, AWS itself a local moto server.
#
# Usage (from a tfgen checkout, in its venv):
#   bash scripts/plan-real.sh [PROJECT_DIR] (--modules DIR | --git-mirror DIR) [-- REHEARSE ARGS...]
#
#   PROJECT_DIR       the directory of environments.yaml (default: this checkout, the
#                     reference project); examples/NAME works the same way.
#   --modules DIR     module packages laid out as DIR/NAMESPACE/NAME/PROVIDER/VERSION/
#                     (the files of the module at that version, as the registry serves them).
#   --git-mirror DIR  build that layout from bare git clones fetched by hand:
#                     DIR/OWNER+REPO/repo (or DIR/OWNER+REPO) holding tag vVERSION, e.g.
#                     DIR/terraform-aws-modules+terraform-aws-vpc/repo for
#                     tfr:///terraform-aws-modules/vpc/aws?version=5.17.0. The pinned
#                     versions are read from the rendered tree (PROJECT_DIR/output); the
#                     registry modules those modules call (module blocks with an exact
#                     version, e.g. cloudposse/label/null) are packed and served too.
#   --keep DIR        keep the scratch tree, logs and reports in DIR (new or empty).
#   --apply           after plan, apply and destroy against the local server too (as far
#                     as moto models the resources; README lists what it does not).
#   Anything after -- goes to `tfgen rehearse` (e.g. -- --env prod --format json).
#   $TFGEN_PLAN_TIMEOUT  seconds the plan step may take (default 10800).
#
# Examples:
#   bash scripts/plan-real.sh --git-mirror /work/.mirror
#   bash scripts/plan-real.sh examples/minimal --modules ~/module-sources -- --format json
#
# Needs: Terragrunt and OpenTofu and the stand-in hashicorp/random (built by
# scripts/build-tools.sh), moto (pip install -e '.[rehearse]'), and the real provider in a
# filesystem mirror ($TFGEN_PROVIDER_MIRROR, default /opt/tf-plugins; on a machine with
# network pass `-- --provider-registry` instead). Fetched module sources are never
# committed: they live in a temporary directory removed on exit.
#
# Exit status: that of `tfgen rehearse` (0 every unit planned, 1 some unit failed: the
# report names each failed unit with the provider's message, 2 it could not start).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
project="$repo"
modules="" git_mirror="" keep="" plan_only=--plan-only
extra=()
while (($#)); do
  case "$1" in
    --modules) modules="$2"; shift 2 ;;
    --git-mirror) git_mirror="$2"; shift 2 ;;
    --keep) keep="$2"; shift 2 ;;
    --apply) plan_only=""; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^set -euo/ { exit } NR > 1' "$0"; exit 0 ;;
    -*) echo "plan-real.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) project="$(cd "$1" && pwd)"; shift ;;
  esac
done
if [[ -z "$modules" && -z "$git_mirror" ]]; then
  echo "plan-real.sh: give --modules DIR or --git-mirror DIR (see --help)" >&2
  exit 2
fi
tfgen="${TFGEN:-$repo/.venv/bin/tfgen}"
[[ -x "$tfgen" ]] || tfgen="$(command -v tfgen)" || { echo "plan-real.sh: tfgen is not installed" >&2; exit 2; }

eval "$(bash "$here/build-tools.sh" --env)"

work="$(mktemp -d "${TMPDIR:-/tmp}/tfgen-plan-real.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# pack NS NAME PROVIDER VERSION [NESTED]: the module's files at tag vVERSION (or VERSION,
# as cloudposse tags) of its bare clone into $modules. A top-level module whose tag is
# missing stops the script; a nested one (called by a packed module) only warns: the
# unit calling it then fails at init, naming it.
pack() {
  local ns="$1" name="$2" provider="$3" version="$4" nested="${5:-}"
  local dest="$modules/$ns/$name/$provider/$version" git_dir tag
  [[ -d "$dest" ]] && return 0
  git_dir="$git_mirror/$ns+terraform-$provider-$name"
  [[ -d "$git_dir/repo" ]] && git_dir="$git_dir/repo"
  tag=""
  for candidate in "v$version" "$version"; do
    if git -C "$git_dir" rev-parse -q --verify "refs/tags/$candidate" >/dev/null 2>&1; then
      tag="$candidate"; break
    fi
  done
  if [[ -z "$tag" ]]; then
    echo "plan-real.sh: $ns/$name/$provider $version${nested:+ (called by $nested)}: no tag v$version in $git_dir (fetch the repository first)" >&2
    [[ -n "$nested" ]] && return 0
    exit 2
  fi
  mkdir -p "$dest"
  # examples/ is not part of what a unit runs, and a mirror may lack its large files.
  git -C "$git_dir" archive --format=tar "$tag" -- . ':(exclude)examples' | tar -x -C "$dest"
  echo "plan-real.sh: $ns/$name/$provider $version from $git_dir${nested:+ (called by $nested)}" >&2
  # The registry modules this one calls (module blocks with a NS/NAME/PROVIDER source and
  # an exact version), served from the same registry: real.py points their sources at it.
  local calls
  calls="$("$python" - "$dest" <<'PY'
import re, sys
from pathlib import Path
block = re.compile(r'^module\s+"[^"]*"\s*\{(.*?)^\}', re.M | re.S)
source = re.compile(r'^\s*source\s*=\s*"(?:registry\.(?:terraform|opentofu)\.(?:io|org)/)?'
                    r'([A-Za-z0-9][\w-]*)/([A-Za-z0-9][\w-]*)/([A-Za-z0-9][\w-]*)(?://[^"]*)?"', re.M)
version = re.compile(r'^\s*version\s*=\s*"=?\s*v?([0-9][0-9A-Za-z.+-]*)"', re.M)
found = set()
for path in Path(sys.argv[1]).rglob("*.tf"):
    if "examples" in path.parts or "tests" in path.parts:
        continue
    for body in block.findall(path.read_text(encoding="utf-8", errors="replace")):
        s, v = source.search(body), version.search(body)
        if s and v:
            found.add(" ".join((*s.groups(), v.group(1))))
        elif s:
            print(f"plan-real.sh: {path}: {'/'.join(s.groups())} has no exact version: not packed", file=sys.stderr)
print("\n".join(sorted(found)))
PY
)"
  local c_ns c_name c_provider c_version
  while read -r c_ns c_name c_provider c_version; do
    [[ -n "$c_ns" ]] && pack "$c_ns" "$c_name" "$c_provider" "$c_version" "$ns/$name/$provider $version"
  done <<<"$calls"
  return 0
}

if [[ -n "$git_mirror" ]]; then
  modules="$work/modules"
  python="$repo/.venv/bin/python"
  [[ -x "$python" ]] || python="$(command -v python3)"
  # Every pinned registry source of the rendered tree: tfr:///NS/NAME/PROVIDER[//SUB]?version=V
  sources="$(grep -rhoE 'tfr://[^/"]*/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+[^"?]*\?version=[0-9A-Za-z.+-]+' \
    "$project/output" --include='*.hcl' | sed -E 's#^tfr://[^/]*/##' | sort -u)"
  while IFS= read -r source; do
    [[ -n "$source" ]] || continue
    address="${source%%\?*}"; version="${source##*version=}"
    IFS=/ read -r ns name provider _ <<<"$address"
    pack "$ns" "$name" "$provider" "$version"
  done <<<"$sources"
fi

# The real provider takes seconds of CPU to load in every init and plan: the reference
# project's 73 units took over 30 minutes on two busy cores.
args=(rehearse -c "$project/environments.yaml" --provider real --modules "$modules" --timeout "${TFGEN_PLAN_TIMEOUT:-10800}")
[[ -n "$plan_only" ]] && args+=("$plan_only")
[[ -n "$keep" ]] && args+=(--keep "$keep")
status=0
"$tfgen" "${args[@]}" "${extra[@]}" || status=$?
exit "$status"
