# Sourced by the image scripts: the mounts apt needs inside a chroot. Call only inside a private
# mount namespace (the scripts re-execute themselves under `unshare --mount`).

chroot_mounts() {
  local root=$1
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --make-rslave "$root/dev"
  # apt inside needs name resolution; bind the host's file instead of copying it into the image.
  [ -e "$root/etc/resolv.conf" ] || : > "$root/etc/resolv.conf"
  mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
}

chroot_unmounts() {
  local root=$1
  umount "$root/etc/resolv.conf"
  umount -R "$root/dev"
  umount "$root/proc"
}

in_chroot() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root "$@"
}
