# Pinned host prerequisites, read by ./bazelw. Changing this file re-runs the installer once.
# shellcheck shell=bash
# shellcheck disable=SC2034  # used by ./bazelw

# Bazel 4.2.3 from Debian 12 (the version in .bazelversion).
BAZEL_DEBIAN_VERSION="4.2.3+ds-9"
BAZEL_REAL="/usr/bin/bazel-4"

# QEMU 10 from bookworm-backports: raspi4b, raspi0, mps2-an521 and virt machines, and user
# mode (qemu-aarch64, qemu-arm) for the engines' tests built for ARM Linux.
QEMU_DEBIAN_VERSION="1:10.0.2+ds-2+deb13u1~bpo12+1"

# mkfs.fat and mtools write the SD card images, so their versions decide the cards' bytes (and
# the release's): pinned like the rest.
DOSFSTOOLS_DEBIAN_VERSION="4.2-1"
MTOOLS_DEBIAN_VERSION="4.0.33-1+really4.0.32-1"

DEBIAN_PACKAGES=(
  "bazel-bootstrap=$BAZEL_DEBIAN_VERSION"
  python3
  python3-venv
  ca-certificates
  curl
  git
  "dosfstools=$DOSFSTOOLS_DEBIAN_VERSION"
  "mtools=$MTOOLS_DEBIAN_VERSION"
)

# Installed with `-t bookworm-backports` so that their dependencies (qemu-system-data,
# qemu-system-common, ...) come from backports too instead of bookworm's QEMU 7.2.
DEBIAN_BACKPORTS_PACKAGES=(
  "qemu-system-arm=$QEMU_DEBIAN_VERSION"
  "qemu-user=$QEMU_DEBIAN_VERSION"
)

# Commands that must be on PATH (with /usr/sbin) once installed. mkfs.fat and mtools make the
# FAT32 SD-card images of tests and of //images:rpi4_sdcard.
HOST_TOOLS=(qemu-system-aarch64 qemu-system-arm qemu-aarch64 qemu-arm python3 curl git mkfs.fat mcopy mmd)

# bazelisk from the npm registry (the package ships the binary itself).
BAZELISK_VERSION="1.28.1"
BAZELISK_URL="https://registry.npmjs.org/@bazel/bazelisk/-/bazelisk-$BAZELISK_VERSION.tgz"
BAZELISK_SHA256="77f7c13dbf204458e671ef05775089e9be95cfe894ec167bc8dadc72994c6734"
