#!/bin/bash
# Test harness (not product), sourced by harness.sh and bench.sh: the one definition of "gateway
# ready" for the checks, the try-out (harness try mode) and the benchmark: pluto listens on IKE
# (UDP 500) and NAT-T (UDP 4500) with the product's connection loaded, and xl2tpd on UDP 1701.
gateway_ready() {
  local s; s=$(ss -lunp 2>/dev/null)
  echo "$s" | grep -q ':500 .*pluto' && echo "$s" | grep -q ':4500 .*pluto' \
    && echo "$s" | grep -q ':1701 .*xl2tpd' \
    && ipsec status 2>/dev/null | grep -q '"l2tp-psk"'
}
# what gateway_ready saw, for a failure message
gateway_ready_detail() {
  echo "listening: $(ss -lunp 2>/dev/null | grep -oE ':(500|4500|1701) .*users:\(\("[a-z0-9]+' | sed -E 's/ .*\(\("/ /' | sort -u | tr '\n' ' '); l2tp-psk loaded: $(ipsec status 2>/dev/null | grep -q '"l2tp-psk"' && echo yes || echo no)"
}
