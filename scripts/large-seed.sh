#!/usr/bin/env bash
# The large seed end to end, outside the race detector: an emulator with 100,000 mailboxes, and
# exoctl streaming every one of them (Get-Mailbox -ResultSize Unlimited -o ndjson) and finding the
# shared ones with -Filter. Talks to 127.0.0.1 only; about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
emu_pid=
trap '[ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export EXOCTL_HOME="$work/home"
go build -o "$work/exoctl" ./cmd/exoctl
go build -o "$work/exoctl-emulator" ./cmd/exoctl-emulator
X="$work/exoctl"
"$work/exoctl-emulator" emulator start --addr 127.0.0.1:0 --data "$work/emu" --seed large --rate-limit 0 >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 1200); do [ -f "$work/emu/emulator.json" ] && break; sleep 0.1; done
[ -f "$work/emu/emulator.json" ] || { echo "large seed: the emulator did not start in 120 s" >&2; cat "$work/emu.log" >&2; exit 1; }
"$X" connect --emulator "$work/emu" >/dev/null
n=$("$X" run -o ndjson Get-Mailbox -ResultSize Unlimited | wc -l)
shared=$("$X" run -o ndjson Get-Mailbox -ResultSize Unlimited -Filter "RecipientTypeDetails -eq 'SharedMailbox'" | wc -l)
echo "large seed: $n mailboxes streamed, $shared shared found by -Filter"
[ "$n" -ge 100000 ] || { echo "large seed: expected at least 100,000 mailboxes, got $n" >&2; exit 1; }
[ "$shared" -gt 0 ] && [ "$shared" -lt "$n" ] || { echo "large seed: -Filter found $shared of $n" >&2; exit 1; }
