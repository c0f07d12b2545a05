#!/bin/bash
# Builds one image layer on top of a parent image, without ever writing to the parent (overlayfs
# with the parent as the read-only lower layer), then flattens it into a full tree that shares the
# parent's unchanged files through hardlinks. What the layer adds, in order:
#   INPUTS/packages   Debian packages, one per line (apt-get install --no-install-recommends)
#   INPUTS/npm.tsv    npm tarballs fetched by the builder (INPUTS/npm/FILE<TAB>NAME), unpacked into
#                     /opt/runner-codes/npm/node_modules/NAME; INPUTS/bin.tsv links COMMAND<TAB>PATH
#                     into /usr/local/bin
#   ASSETS/rootfs/    files copied into the image as they are (owned by root)
#   ASSETS/setup.sh   run inside the layer last, as root (e.g. to initialise a database)
# Usage: build-layer.sh PARENT_ROOTFS BUILD_DIR INPUTS ASSETS   (ASSETS may be a missing directory)
# Produces BUILD_DIR/rootfs. Runs as root in a private mount namespace (re-executes under unshare).
set -euo pipefail
if [ -z "${RC_IN_MOUNT_NS:-}" ]; then
  exec env RC_IN_MOUNT_NS=1 unshare --mount --propagation private -- bash "$0" "$@"
fi
parent=$1 build=$2 inputs=$3 assets=$4
here=$(dirname "$0")
upper=$build/upper work=$build/work merged=$build/merged rootfs=$build/rootfs
mkdir -p "$upper" "$work" "$merged"
mount -t overlay overlay -o "lowerdir=$parent,upperdir=$upper,workdir=$work" "$merged"
source "$here/chroot-mounts.sh"
chroot_mounts "$merged"

mapfile -t packages < <(grep -v '^$' "$inputs/packages" || true)
if [ "${#packages[@]}" -gt 0 ]; then
  echo "step: apt-get install ${packages[*]}"
  # Some maintainer scripts (openjdk's) register man pages as alternatives and fail when the
  # directory the base image's trim removed is missing; it is trimmed again below.
  mkdir -p "$merged/usr/share/man/man1"
  in_chroot "$merged" apt-get update -q
  in_chroot "$merged" apt-get install -y -q --no-install-recommends "${packages[@]}"
  in_chroot "$merged" apt-get clean
fi

if [ -s "$inputs/npm.tsv" ]; then
  tree=$merged/opt/runner-codes/npm/node_modules
  while IFS=$'\t' read -r tarball name; do
    echo "step: unpack npm package $name"
    mkdir -p "$tree/$name"
    # Registry tarballs hold one top directory (package/, or the name for @types); no owners kept.
    tar -xzf "$inputs/npm/$tarball" -C "$tree/$name" --strip-components=1 --no-same-owner
  done < "$inputs/npm.tsv"
  chmod -R u+rwX,go+rX,go-w "$merged/opt/runner-codes"
  while IFS=$'\t' read -r command target; do
    mkdir -p "$merged/usr/local/bin"
    ln -sfn "$target" "$merged/usr/local/bin/$command"
  done < "$inputs/bin.tsv"
fi

if [ -d "$assets/rootfs" ]; then
  echo "step: copy the layer's files"
  cp -R --no-preserve=ownership "$assets/rootfs/." "$merged/"
fi
if [ -f "$assets/setup.sh" ]; then
  echo "step: run the layer's setup.sh"
  cp "$assets/setup.sh" "$merged/tmp/runner-codes-setup.sh"
  in_chroot "$merged" /bin/bash -euo pipefail /tmp/runner-codes-setup.sh
  rm -f "$merged/tmp/runner-codes-setup.sh"
fi

chroot_unmounts "$merged"
"$here/trim-rootfs.sh" "$merged"
umount "$merged"

echo "step: flatten the layer onto a hardlinked copy of the parent"
cp -al "$parent" "$rootfs"
# Whiteouts (0:0 character devices) delete what the parent had at that path.
while IFS= read -r -d '' node; do
  if [ "$(stat -c '%t:%T' "$node")" = "0:0" ]; then
    rm -rf -- "${rootfs:?}/${node#"$upper"/}"
    rm -f -- "$node"
  fi
done < <(find "$upper" -type c -print0)
# Opaque directories replace the parent's directory wholesale.
while IFS= read -r line; do
  case $line in
    "# file: "*) rm -rf -- "${rootfs:?}/${line#"# file: $upper"/}" ;;
  esac
done < <(getfattr -R --absolute-names -n trusted.overlay.opaque "$upper" 2>/dev/null || true)
# A non-directory replacing a directory: remove the directory first (cp cannot).
while IFS= read -r -d '' path; do
  rel=${path#"$upper"/}
  if [ -d "$rootfs/$rel" ] && [ ! -L "$rootfs/$rel" ]; then rm -rf -- "${rootfs:?}/$rel"; fi
done < <(find "$upper" -mindepth 1 ! -type d -print0)
# Changed and new files replace (never modify) the hardlinks to the parent's files.
cp -a -l --remove-destination "$upper/." "$rootfs/"
rm -rf "$upper" "$work" "$merged"
echo "step: done"
