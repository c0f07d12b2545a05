#!/bin/bash
# Removes what no sandbox needs from an image tree and makes setuid/setgid binaries inert.
# Usage: trim-rootfs.sh ROOTFS
set -euo pipefail
rootfs=$1
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/var/log/* \
       "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/lintian/*
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
# SECURITY: sandboxes run with no_new_privs, so setuid bits are inert anyway; drop them as well.
find "$rootfs" -xdev -type f -perm /6000 -exec chmod ug-s {} +
