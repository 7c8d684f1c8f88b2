#!/usr/bin/env bash
# Download the grading runner's records (its artifacts named score-*) for `grade collect`:
#
#     templates/github/fetch-records.sh OWNER/GRADING-RUNNER FOLDER
#
# Needs the GitHub CLI (`gh`) logged in with read access to the runner repository's Actions
# (a fine-grained token: that repository only, Actions: read). Each artifact lands as
# FOLDER/<artifact id>.zip; ones already there are skipped, so a rerun after a failure resumes.
set -euo pipefail
repo=${1:-}
dir=${2:-}
if [[ ! "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ || -z "$dir" ]]; then
  echo "usage: $0 OWNER/GRADING-RUNNER FOLDER" >&2
  exit 2
fi
mkdir -p "$dir"
list=$(gh api --paginate "repos/$repo/actions/artifacts?per_page=100" \
  --jq '.artifacts[] | select(.expired | not) | select(.name | startswith("score-")) | "\(.id) \(.name)"')
fetched=0
while read -r id name; do
  [[ -n "$id" ]] || continue
  if [[ ! "$id" =~ ^[0-9]+$ || ! "$name" =~ ^score-[A-Za-z0-9_.-]+$ ]]; then
    echo "skipped: not a grading record: ${id//[^0-9A-Za-z_.-]/?} ${name//[^0-9A-Za-z_.-]/?}" >&2
    continue
  fi
  [[ -s "$dir/$id.zip" ]] && continue
  gh api "repos/$repo/actions/artifacts/$id/zip" > "$dir/$id.zip.part"
  mv "$dir/$id.zip.part" "$dir/$id.zip"
  fetched=$((fetched + 1))
done <<< "$list"
echo "fetched $fetched new records into $dir"
