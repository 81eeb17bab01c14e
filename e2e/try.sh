#!/usr/bin/env bash
# Local try-out: boot the gateway from a stack config (example stack by default), connect one
# demo client, print the public address, user, assigned IP, timings and a verdict.
#   bash e2e/try.sh [--config FILE] [--bake-public-ip]
exec bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" --try --timeout 900 "$@"
