#!/bin/bash
# Builds one image layer: Debian packages installed on top of a parent image, without ever
# writing to the parent (overlayfs with the parent as the read-only lower layer), then flattened
# into a full tree that shares the parent's unchanged files through hardlinks.
# Usage: build-layer.sh PARENT_ROOTFS BUILD_DIR PACKAGE...
# Produces BUILD_DIR/rootfs. Runs as root in a private mount namespace (re-executes under unshare).
set -euo pipefail
if [ -z "${RC_IN_MOUNT_NS:-}" ]; then
  exec env RC_IN_MOUNT_NS=1 unshare --mount --propagation private -- bash "$0" "$@"
fi
parent=$1 build=$2
shift 2
here=$(dirname "$0")
upper=$build/upper work=$build/work merged=$build/merged rootfs=$build/rootfs
mkdir -p "$upper" "$work" "$merged"

echo "step: apt-get install $*"
mount -t overlay overlay -o "lowerdir=$parent,upperdir=$upper,workdir=$work" "$merged"
source "$here/chroot-mounts.sh"
chroot_mounts "$merged"
# Some maintainer scripts (openjdk's) register man pages as alternatives and fail when the directory
# the base image's trim removed is missing; it is trimmed again below.
mkdir -p "$merged/usr/share/man/man1"
in_chroot "$merged" apt-get update -q
in_chroot "$merged" apt-get install -y -q --no-install-recommends "$@"
in_chroot "$merged" apt-get clean
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
