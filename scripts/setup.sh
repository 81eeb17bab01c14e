#!/bin/bash
# Installs what the project needs on a fresh Debian machine: npm packages always, Debian packages
# by group. Usage: scripts/setup.sh [test|vm]...  (sourced steps are idempotent and quiet when done)
set -euo pipefail
cd "$(dirname "$0")/.."

# npm packages: reinstall when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
fi

need=()
for group in "$@"; do
    case "$group" in
        # cloud-init validates the rendered cloud-config against its schema; shellcheck checks
        # every shell script, the project's and the ones the gateway is given.
        test)
            command -v cloud-init >/dev/null || need+=(cloud-init)
            command -v shellcheck >/dev/null || need+=(shellcheck)
            ;;
        # QEMU and the tools that build and seed the gateway's VM.
        vm)
            command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
            command -v qemu-img >/dev/null || need+=(qemu-utils)
            command -v debootstrap >/dev/null || need+=(debootstrap)
            command -v genisoimage >/dev/null || need+=(genisoimage)
            command -v dpkg-scanpackages >/dev/null || need+=(dpkg-dev)
            command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
            ;;
        *) echo "setup: unknown group $group (known: test, vm)" >&2; exit 2 ;;
    esac
done
if [ "${#need[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${need[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
