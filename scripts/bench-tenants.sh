#!/usr/bin/env bash
# Bench: one partner sign-in, Get-AcceptedDomain in 200 customer tenants (emulator --seed msp)
# at the default --parallel, against one tenant: wall time (cold: every customer's token
# fetched silently from the partner's refresh token; warm: tokens from the cache), peak RSS,
# and the token requests the emulator saw by grant (none interactive).
# Bounded: under a minute on 2 cores. Talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $emu_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export EXOCTL_HOME="$work/home"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }

go build -o "$work/exoctl" ./cmd/exoctl
go build -o "$work/exoctl-emulator" ./cmd/exoctl-emulator
X="$work/exoctl"
"$work/exoctl-emulator" emulator start --addr 127.0.0.1:0 --data "$work/emu" --seed msp >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 600); do [ -f "$work/emu/emulator.json" ] && break; sleep 0.1; done
[ -f "$work/emu/emulator.json" ] || { cat "$work/emu.log"; exit 1; }
upn=priya.ops@northwindpartners.com
jq -r --arg u "$upn" '.tenants[].users[]?|select(.upn==$u).password' "$work/emu/emulator.json" |
  "$X" connect --emulator "$work/emu" --upn "$upn" --password-stdin 2>/dev/null
seq -f "customer%03g.onmicrosoft.com" 1 200 >"$work/customers.txt"

run() { /usr/bin/time -f "%e s wall, %M KiB peak RSS" "$X" run "$@" Get-AcceptedDomain 2>&1 >/dev/null | tail -2 | tr '\n' ' '; echo; }
echo "1 tenant, cold:    $(run --tenants customer001.onmicrosoft.com)"
echo "1 tenant, warm:    $(run --tenants customer001.onmicrosoft.com)"
echo "200 tenants, cold: $(run --tenants "$work/customers.txt")"
echo "200 tenants, warm: $(run --tenants "$work/customers.txt")"
echo "token requests by grant (one password sign-in; the rest silent):"
grep -o 'grant=[a-z_:]*' "$work/emu.log" | sort | uniq -c
