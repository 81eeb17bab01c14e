# shellcheck shell=bash
# Sourced by run.sh and bench.sh: the product's `os` whose Libreswan a VM image carries, for
# `npm run render -- --os` (the one ipsec.conf line that differs between Libreswan 4.x and 5.x).
# Debian 12's 4.10 stands for Ubuntu 24.04's 4.14, Debian 13's 5.2 for Ubuntu 26.04's.
image_os() {  # image_os DIST VARIANT
  case "$1/$2" in
    bookworm/debian-cloud|bookworm/generic) echo debian-12 ;;
    bookworm/*) echo ubuntu-24.04 ;;
    trixie/*) echo debian-13 ;;
    *) echo "image_os: unknown dist $1" >&2; return 1 ;;
  esac
}
