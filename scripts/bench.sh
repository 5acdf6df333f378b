#!/usr/bin/env bash
# Bench: exoctl against the emulator with the large seed (100,000 mailboxes).
#  (a) cold `exoctl run Get-AcceptedDomain` (new process, cached token) vs curl doing the same
#      POST with the same token: ratio of medians;
#  (b) `exoctl run -o ndjson Get-Mailbox -ResultSize Unlimited`: records/s, peak RSS, and the
#      ratio of its time to a minimal Go loop fetching the same pages raw.
# Bounded: a few minutes on 2 cores. Talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-21}
work=$(mktemp -d)
trap 'kill $emu_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export EXOCTL_HOME="$work/home"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }

echo "building..."
go build -o "$work/exoctl" ./cmd/exoctl
go build -o "$work/rawfetch" ./scripts/rawfetch
X="$work/exoctl"

echo "starting the emulator with --seed large..."
"$X" emulator start --addr 127.0.0.1:0 --data "$work/emu" --seed large >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 600); do [ -f "$work/emu/emulator.json" ] && break; sleep 0.1; done
[ -f "$work/emu/emulator.json" ] || { cat "$work/emu.log"; exit 1; }
url=$(jq -r .url "$work/emu/emulator.json")
ca=$(jq -r .ca_file "$work/emu/emulator.json")
tenant=$(jq -r '.tenants[0].name' "$work/emu/emulator.json")
"$X" connect --emulator "$work/emu" 2>/dev/null
token=$("$X" token)
invoke="$url/adminapi/beta/$tenant/InvokeCommand"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e-s)/1000 )); }

echo "(a) cold run, $RUNS runs each"
"$X" run Get-AcceptedDomain >/dev/null
exo_us=$(for _ in $(seq "$RUNS"); do ms "$X" run Get-AcceptedDomain; done | median)
curl_us=$(for _ in $(seq "$RUNS"); do ms curl -sf --cacert "$ca" -X POST "$invoke" \
  -H "Authorization: Bearer $token" -H "Content-Type: application/json" -H "X-CmdletName: Get-AcceptedDomain" \
  -d '{"CmdletInput":{"CmdletName":"Get-AcceptedDomain","Parameters":{}}}'; done | median)
printf '    exoctl run Get-AcceptedDomain: median %.1f ms\n' "$(echo "$exo_us/1000" | bc -l)"
printf '    curl, same POST and token:     median %.1f ms\n' "$(echo "$curl_us/1000" | bc -l)"
printf '    ratio exoctl/curl:             %.2f\n' "$(echo "$exo_us/$curl_us" | bc -l)"

echo "(b) Get-Mailbox -ResultSize Unlimited -o ndjson over the large seed"
/usr/bin/time -f "%e %M" -o "$work/time.exo" "$X" run -o ndjson Get-Mailbox -ResultSize Unlimited >"$work/out.ndjson"
read -r exo_s exo_kb <"$work/time.exo"
n=$(wc -l <"$work/out.ndjson")
/usr/bin/time -f "%e %M" -o "$work/time.raw" "$work/rawfetch" -url "$invoke" -ca "$ca" <<<"$token" >"$work/raw.count"
read -r raw_s raw_kb <"$work/time.raw"
printf '    exoctl:  %d records in %.2f s = %.0f records/s, peak RSS %d MB\n' "$n" "$exo_s" "$(echo "$n/$exo_s" | bc -l)" $((exo_kb/1024))
printf '    raw Go:  %d records in %.2f s, peak RSS %d MB\n' "$(cat "$work/raw.count")" "$raw_s" $((raw_kb/1024))
printf '    ratio exoctl/raw time: %.2f\n' "$(echo "$exo_s/$raw_s" | bc -l)"
