#!/bin/bash
# Builds the base image: debootstrap minbase, apt configured for small layers, trimmed.
# Usage: build-base.sh ROOTFS SUITE MIRROR SECURITY_MIRROR
# Runs as root, in a private mount namespace (re-executes itself under unshare), so every
# mount it makes disappears with it, whatever happens.
set -euo pipefail
if [ -z "${RC_IN_MOUNT_NS:-}" ]; then
  exec env RC_IN_MOUNT_NS=1 unshare --mount --propagation private -- bash "$0" "$@"
fi
rootfs=$1 suite=$2 mirror=$3 security=$4
here=$(dirname "$0")

echo "step: debootstrap $suite (minbase) from $mirror"
debootstrap --variant=minbase --components=main "$suite" "$rootfs" "$mirror"

echo "step: configure apt and dpkg"
# Backports has a lower priority: a layer gets a package from it only by asking (name/$suite-backports).
cat > "$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $mirror $suite-backports main
deb $security $suite-security main
SOURCES
cat > "$rootfs/etc/apt/apt.conf.d/90runner-codes" <<'APT'
APT::Install-Recommends "0";
APT::Install-Suggests "0";
Acquire::Languages "none";
Dpkg::Use-Pty "0";
APT
# Later layers never install docs, man pages or translations.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/90runner-codes-trim" <<'DPKG'
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
DPKG

echo "step: apt-get upgrade (security and point-release updates)"
source "$here/chroot-mounts.sh"
chroot_mounts "$rootfs"
in_chroot "$rootfs" apt-get update -q
in_chroot "$rootfs" apt-get -y -q upgrade
in_chroot "$rootfs" apt-get clean
chroot_unmounts "$rootfs"

echo "step: sandbox user, mount points, trim"
# The uid sandboxed code runs as (bwrap --uid 1000); named so that tools like whoami work.
echo 'runner:x:1000:1000:runner:/tmp:/bin/bash' >> "$rootfs/etc/passwd"
echo 'runner:x:1000:' >> "$rootfs/etc/group"
printf '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost\n' > "$rootfs/etc/hosts"
echo sandbox > "$rootfs/etc/hostname"
# Mount points for bwrap: the image is read-only at run time, so they must exist already.
mkdir -p "$rootfs/work" "$rootfs/.runner"
: > "$rootfs/.runner/runner-agent"
"$here/trim-rootfs.sh" "$rootfs"
echo "step: done"
