#!/bin/bash
# A custom image's `files` (docs/custom-images.md). The builder hands this to build-layer.sh as the
# layer's setup.sh, so it runs inside the image's chroot: a path through a symlink the parent image
# holds resolves inside the image, never on the host. The paths come from a data file, never from
# the script's text: /tmp/runner-codes-files/list holds MODE<TAB>INDEX<TAB>PATH per file (paths
# validated by catalog-rules.ts: absolute, no tab or newline, no `.` or `..`), the contents INDEX.
set -euo pipefail
dir=/tmp/runner-codes-files
while IFS=$'\t' read -r mode index path; do
  if [ -d "$path" ] && [ ! -L "$path" ]; then
    echo "files: $path is a directory in the parent image" >&2
    exit 1
  fi
  echo "file $path"
  mkdir -p -- "$(dirname -- "$path")"
  # Replace, never write through, whatever the parent had at that path.
  rm -f -- "$path"
  install -m "$mode" -- "$dir/$index" "$path"
done < "$dir/list"
rm -rf -- "$dir"
