#!/bin/bash
# Installs what the project needs on a fresh Debian machine: Node 22 or later and npm packages
# always, Debian packages by group. Usage: scripts/setup.sh [test|vm]...  (sourced steps are
# idempotent and quiet when done)
set -euo pipefail
cd "$(dirname "$0")/.."

# Node: the project needs 22 or later. Where the machine's is older (or VPN_GATEWAY_LOCAL_NODE=1,
# which CI sets so that the tests run on Node 24 LTS whatever the machine has), Node 24 from the
# npm registry goes to .tools/node-24, kept at the version pinned in scripts/node-env.sh, which
# puts it first on PATH for this script and the others.
. scripts/node-env.sh
install_local_node() {
    local arch tmp globalconfig
    case "$(uname -m)" in
        x86_64) arch=x64 ;;
        aarch64 | arm64) arch=arm64 ;;
        *) echo "setup: the npm registry has no Node binary package for $(uname -m): install Node 22 or later" >&2; exit 1 ;;
    esac
    if ! command -v npm >/dev/null; then
        echo "setup: Node 22 or later is needed, and there is no npm to fetch it with: install npm or Node 22 or later" >&2
        exit 1
    fi
    echo "setup: installing Node $NODE_LOCAL_VERSION in .tools/node-24 (npm registry: node-linux-$arch@$NODE_LOCAL_VERSION, npm@$NPM_LOCAL_VERSION)"
    mkdir -p .tools
    tmp=$(mktemp -d .tools/node-24.XXXXXX) && chmod 755 "$tmp"
    if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error \
            "node-linux-$arch@$NODE_LOCAL_VERSION" "npm@$NPM_LOCAL_VERSION" \
        || [ "$("$tmp/node_modules/.bin/node" --version 2>/dev/null)" != "v$NODE_LOCAL_VERSION" ]; then
        rm -rf "$tmp"
        echo "setup: could not install Node $NODE_LOCAL_VERSION from the npm registry ($(npm config get registry 2>/dev/null)):" \
            "check that it is reachable, or install Node 22 or later yourself" >&2
        exit 1
    fi
    # npm reads its global config (registry, proxy, CA file) from beside its Node: keep the machine's.
    globalconfig=$(readlink -f "$(npm config get globalconfig 2>/dev/null)" || true)
    if [ -f "$globalconfig" ]; then
        mkdir -p "$tmp/node_modules/node-linux-$arch/etc"
        ln -s "$globalconfig" "$tmp/node_modules/node-linux-$arch/etc/npmrc"
    fi
    rm -rf "$NODE_LOCAL_DIR"
    mv "$tmp" "$NODE_LOCAL_DIR"
}
if [ -d "$NODE_LOCAL_DIR" ] || [ "${VPN_GATEWAY_LOCAL_NODE:-}" = 1 ] \
    || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 22 ? 0 : 1)' 2>/dev/null; then
    if [ "$("$NODE_LOCAL_DIR/node_modules/.bin/node" --version 2>/dev/null)" != "v$NODE_LOCAL_VERSION" ]; then
        install_local_node
        . scripts/node-env.sh
    fi
fi

# npm packages: reinstall when package-lock.json changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "setup: installing npm packages (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error
fi

need=()
for group in "$@"; do
    case "$group" in
        # cloud-init validates the rendered cloud-config against its schema; shellcheck checks
        # every shell script, the project's and the ones the gateway is given; the gateway's agent
        # (agent/, Python) is tested with the distribution's python3, python3-boto3 and pytest, as
        # it runs there, and checked by pyflakes3 and mypy (npm run test:agent, npm run lint). eslint
        # and prettier, the rest of npm run lint, are npm packages: npm ci above installs them.
        test)
            command -v cloud-init >/dev/null || need+=(cloud-init)
            command -v shellcheck >/dev/null || need+=(shellcheck)
            /usr/bin/python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)
            /usr/bin/python3 -c 'import pytest' 2>/dev/null || need+=(python3-pytest)
            command -v pyflakes3 >/dev/null || need+=(pyflakes3)
            command -v mypy >/dev/null || need+=(mypy)
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
