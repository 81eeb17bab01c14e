#!/usr/bin/env bash
# Local try-out: boot the gateway from a stack config (example stack by default), connect one
# demo client, print the public address, user, assigned IP, timings and a verdict. run.sh renders
# the user-data and the SSM parameters (`npm run render -- --out-dir`) and seeds the test bed's SSM
# stand-in with them, as `pulumi up` would create them.
#   bash e2e/try.sh [--config FILE] [--bake-public-ip]
exec bash "$(dirname "${BASH_SOURCE[0]}")/run.sh" --try --timeout 900 "$@"
