#!/usr/bin/env bash
# Builds a Debian bookworm arm64 root filesystem in ROOT: the base of 64-bit Raspberry Pi OS
# (Python 3.11, glibc 2.36). Usage: rootfs.sh ROOT MIRROR
#
# test-pi.sh caches the result keyed on this file's sha256: editing it forces a rebuild.
# Needs root, debootstrap and a registered qemu-aarch64 binfmt handler (for the second stage).
set -euo pipefail

ROOT=${1:?usage: rootfs.sh ROOT MIRROR}
MIRROR=${2:?usage: rootfs.sh ROOT MIRROR}
# python3-venv brings ensurepip's wheels; nothing else from Debian is needed for a venv.
PACKAGES=python3,python3-venv,ca-certificates

debootstrap --arch=arm64 --foreign --variant=minbase --include="$PACKAGES" \
  bookworm "$ROOT" "$MIRROR"
# The slow part: every maintainer script runs under qemu-user.
chroot "$ROOT" /debootstrap/debootstrap --second-stage
# A smaller cache; apt is not used inside afterwards.
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/lib/apt/lists/*
