#!/usr/bin/env bash
# Bench: exoctl and its emulator, each figure beside its peer or limit, in one run on this
# machine. Prints one table and writes the same to bench/results.json.
#  cold    `exoctl run Get-AcceptedDomain` (new process, cached token) vs curl doing the same
#          POST with the same token, interleaved run by run;
#  stream  `exoctl run -o ndjson|json|csv Get-Mailbox -ResultSize Unlimited` over the large
#          seed (100,000 mailboxes): records/s, peak RSS, and CPU vs scripts/rawfetch -decode (a
#          minimal Go loop cutting the same pages into records with encoding/json); plain
#          rawfetch, decoding nothing, shows the emulator alone, with its CPU per record;
#  token   the emulator's token endpoint (client credentials with a certificate assertion it
#          checks: signature, audience, lifetime, certificate) vs oauth2-mock-server (npm,
#          pinned, installed into a temporary folder) at 64 connections with wrk; entra-emulator
#          is in no registry here: compared only when an `entra-emulator` command exists;
#  start   process start to first token (existing and empty data folder), in-process
#          emulator.Start (BenchmarkStart);
#  pages   Get-Mailbox pages of 1,000 at 64 connections: MB/s, p99, the emulator's peak RSS;
#  go      the Go benchmarks of psparam, table rendering and the token cache.
# BENCH_QUICK=1 (CI) runs a short pass on the demo seed; it asserts nothing about time.
# Bounded: under 5 minutes on 2 cores. Talks to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
QUICK=${BENCH_QUICK:-}
RUNS=${RUNS:-$([ -n "$QUICK" ] && echo 3 || echo 21)}
ROUNDS=${ROUNDS:-$([ -n "$QUICK" ] && echo 1 || echo 3)}
LOAD_S=${LOAD_S:-$([ -n "$QUICK" ] && echo 2 || echo 8)}
SEED=${SEED:-$([ -n "$QUICK" ] && echo demo || echo large)}
OMS_VERSION=9.3.0 # oauth2-mock-server, the newest release when this was written
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export EXOCTL_HOME="$work/home"
# What emulators make ahead for new data folders (spare keys and seeded folders) stays in the run.
export EXOCTL_EMULATOR_SPARE="$work/spare"
need() { command -v "$1" >/dev/null; }
if ! need wrk && [ "$(id -u)" = 0 ] && need apt-get; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 || true
fi
for c in curl jq /usr/bin/time; do need "$c" || { echo "bench needs $c" >&2; exit 1; }; done

rows="$work/rows.tsv"
: >"$rows"
# row SCENARIO FIGURE VALUE UNIT PEER PEER_VALUE RATIO GOAL
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b+0 == 0 || a == "") print ""; else printf "%.2f", a/b }'; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print ""; else print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now_us() { echo $(( $(date +%s%N) / 1000 )); }
t_start=$(date +%s)
say() { echo "[$(($(date +%s) - t_start))s] $*"; }

say "building..."
go build -o "$work/exoctl" ./cmd/exoctl
go build -o "$work/exoctl-emulator" ./cmd/exoctl-emulator
go build -o "$work/rawfetch" ./scripts/rawfetch
go build -o "$work/tokenload" ./scripts/tokenload
X="$work/exoctl"

# start_emulator DIR SEED [ADDR]: starts an emulator on DIR, waits for emulator.json, sets emu_pid.
start_emulator() {
  rm -f "$1/emulator.json"
  "$work/exoctl-emulator" emulator start --addr "${3:-127.0.0.1:0}" --data "$1" --seed "$2" --rate-limit 0 >"$1.log" 2>&1 &
  emu_pid=$!
  pids+=("$emu_pid")
  for _ in $(seq 1 1800); do [ -f "$1/emulator.json" ] && return 0; sleep 0.1; done
  cat "$1.log" >&2
  exit 1
}
stop_emulator() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

say "starting the emulator (--seed $SEED)..."
emu="$work/emu"
start_emulator "$emu" "$SEED"
main_pid=$emu_pid
url=$(jq -r .url "$emu/emulator.json")
ca=$(jq -r .ca_file "$emu/emulator.json")
tenant=$(jq -r '.tenants[0].name' "$emu/emulator.json")
"$X" connect --emulator "$emu" >/dev/null 2>&1
token=$("$X" token)
invoke="$url/adminapi/beta/$tenant/InvokeCommand"

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# wait_idle PID: waits (at most 60 s, said) until the process used no CPU for half a second: a new
# large seed keeps the emulator busy after it answers (writing its database out), and the cold
# runs would measure that instead.
wait_idle() {
  local a b
  for _ in $(seq 120); do
    a=$(cpu_ticks "$1"); sleep 0.5; b=$(cpu_ticks "$1")
    [ $((b - a)) -le 1 ] && return 0
  done
  say "the emulator is still busy after 60 s; measuring anyway"
}
wait_idle "$main_pid"
say "cold: exoctl run Get-AcceptedDomain vs curl, $RUNS runs each, interleaved"
"$X" run Get-AcceptedDomain >/dev/null
curl_post() {
  curl -sf --cacert "$ca" -X POST "$invoke" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -H "X-CmdletName: Get-AcceptedDomain" -d '{"CmdletInput":{"CmdletName":"Get-AcceptedDomain","Parameters":{}}}'
}
curl_post >/dev/null
: >"$work/cold.exo"; : >"$work/cold.curl"
for _ in $(seq "$RUNS"); do
  s=$(now_us); "$X" run Get-AcceptedDomain >/dev/null; e=$(now_us); echo $((e - s)) >>"$work/cold.exo"
  s=$(now_us); curl_post >/dev/null; e=$(now_us); echo $((e - s)) >>"$work/cold.curl"
done
exo_ms=$(median <"$work/cold.exo" | awk '{printf "%.1f", $1/1000}')
curl_ms=$(median <"$work/cold.curl" | awk '{printf "%.1f", $1/1000}')
row cold "exoctl run Get-AcceptedDomain, median" "$exo_ms" ms "curl, same POST" "$curl_ms" "$(ratio "$exo_ms" "$curl_ms")" "<= 0.8"
exo_min=$(sort -n "$work/cold.exo" | head -1 | awk '{printf "%.1f", $1/1000}')
curl_min=$(sort -n "$work/cold.curl" | head -1 | awk '{printf "%.1f", $1/1000}')
row cold "exoctl run Get-AcceptedDomain, fastest" "$exo_min" ms "curl, fastest" "$curl_min" "$(ratio "$exo_min" "$curl_min")" ""
# CPU time (user+sys) of a run, which a loaded machine disturbs less than the wall clock.
task_ms() { perf stat -x, -e task-clock -r "$RUNS" "$@" 2>&1 >/dev/null | awk -F, '/task-clock/ {printf "%.1f", $1}'; }
if need perf && perf stat -e task-clock true >/dev/null 2>&1; then
  exo_cpu=$(task_ms "$X" run Get-AcceptedDomain)
  curl_cpu=$(task_ms curl -sf --cacert "$ca" -X POST "$invoke" -H "Authorization: Bearer $token" -H "Content-Type: application/json" \
    -H "X-CmdletName: Get-AcceptedDomain" -d '{"CmdletInput":{"CmdletName":"Get-AcceptedDomain","Parameters":{}}}')
  row cold "exoctl run Get-AcceptedDomain, CPU (perf stat)" "$exo_cpu" ms "curl CPU" "$curl_cpu" "$(ratio "$exo_cpu" "$curl_cpu")" ""
fi

say "stream: Get-Mailbox -ResultSize Unlimited"
# rawfetch (no decoding) shows the emulator alone: its rate, and the emulator's CPU per record
# while it serves it (from /proc), the median of ROUNDS runs.
: >"$work/raw.runs"
for _ in $(seq "$ROUNDS"); do
  c0=$(cpu_ticks "$main_pid")
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.raw" "$work/rawfetch" -url "$invoke" -ca "$ca" <<<"$token" >"$work/raw.count"
  c1=$(cpu_ticks "$main_pid")
  read -r raw_s raw_u raw_sys raw_kb <"$work/time.raw"
  awk -v n="$(cat "$work/raw.count")" -v s="$raw_s" -v u="$raw_u" -v y="$raw_sys" -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.0f %.2f %.1f\n", n/s, u+y, c/hz/n*1e6}' >>"$work/raw.runs"
done
raw_rps=$(awk '{print $1}' "$work/raw.runs" | median)
raw_cpu=$(awk '{print $2}' "$work/raw.runs" | median)
emu_us=$(awk '{print $3}' "$work/raw.runs" | median)
# The peer of a client's CPU: rawfetch -decode, encoding/json cutting each page into its records
# (the minimal Go loop that reads what it fetches).
: >"$work/dec.runs"
for _ in $(seq "$ROUNDS"); do
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.dec" "$work/rawfetch" -decode -url "$invoke" -ca "$ca" <<<"$token" >/dev/null
  awk '{printf "%.2f\n", $2+$3}' "$work/time.dec" >>"$work/dec.runs"
done
dec_cpu=$(median <"$work/dec.runs")
for f in ndjson json csv; do
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.$f" "$X" run -o "$f" Get-Mailbox -ResultSize Unlimited >"$work/out.$f"
  read -r s u sys kb <"$work/time.$f"
  n=$(cat "$work/raw.count")
  rps=$(awk -v n="$n" -v s="$s" 'BEGIN {printf "%.0f", n/s}')
  mib=$(awk -v k="$kb" 'BEGIN {printf "%.1f", k/1024}')
  cpu=$(awk -v u="$u" -v s="$sys" 'BEGIN {printf "%.2f", u+s}')
  row stream "$f: peak RSS ($n records)" "$mib" MiB "limit" 30 "$(ratio "$mib" 30)" "<= 1"
  row stream "$f: CPU user+sys" "$cpu" s "rawfetch -decode CPU" "$dec_cpu" "$(ratio "$cpu" "$dec_cpu")" "<= 1"
  row stream "$f: CPU user+sys" "$cpu" s "rawfetch CPU (no decoding)" "$raw_cpu" "$(ratio "$cpu" "$raw_cpu")" ""
  row stream "$f: records/s end to end" "$rps" "rec/s" "goal" 25000 "$(ratio "$rps" 25000)" ">= 1"
  row stream "$f: records/s end to end" "$rps" "rec/s" "rawfetch, same run" "$raw_rps" "$(ratio "$rps" "$raw_rps")" ""
  rm -f "$work/out.$f"
done
row stream "rawfetch: records/s (the emulator alone, median of $ROUNDS)" "$raw_rps" "rec/s" "goal" 25000 "$(ratio "$raw_rps" 25000)" ">= 1"
row stream "emulator CPU per record served to rawfetch" "$emu_us" "us" "" "" "" ""

# wrk_run URL BODYFILE [HEADER...]: prints requests/s, p99 ms, MB/s.
wrk_run() {
  local target=$1 body=$2
  shift 2
  local lua="$work/post.lua"
  {
    echo 'local f = assert(io.open(os.getenv("BODY_FILE"), "rb")); wrk.method = "POST"; wrk.body = f:read("*a"); f:close()'
    for h in "$@"; do echo "wrk.headers[\"${h%%:*}\"] = \"${h#*: }\""; done
  } >"$lua"
  BODY_FILE=$body wrk -t2 -c64 -d"${LOAD_S}s" --timeout "${WRK_TIMEOUT:-2s}" --latency -s "$lua" "$target" >"$work/wrk.out" 2>&1 || true
  if grep -q "Non-2xx" "$work/wrk.out"; then
    echo "  wrk: answers that were not 2xx against $target:" >&2
    grep -v -E '^ +[0-9.]+%|Latency|Req/Sec|Running|threads and|Thread Stats|Distribution|requests in|Requests/sec|Transfer/sec' "$work/wrk.out" | head -5 >&2
  fi
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    function mb(v) { if (v ~ /KB$/) return v/1024; if (v ~ /MB$/) return v+0; if (v ~ /GB$/) return v*1024; return v/1048576 }
    /Requests\/sec/ {r=$2} $1=="99%" {p=ms($2)} /Transfer\/sec/ {t=mb($2)}
    END {printf "%.0f %.1f %.1f\n", r, p, t}' "$work/wrk.out"
}

if need wrk; then
  say "token: client credentials at 64 connections, $ROUNDS rounds of ${LOAD_S}s"
  tok="$work/tok"
  mkdir -p "$tok"
  start_emulator "$tok" demo
  tok_pid=$emu_pid
  "$work/tokenload" -data "$tok" -body >"$work/token.body"
  tok_url=$("$work/tokenload" -data "$tok" -url)
  # Restart on the seeded folder, as the pages block does, so that the peak RSS is the load's,
  # not the seeding's. Same address: the assertion's audience names the token endpoint.
  tok_addr=$(jq -r .url "$tok/emulator.json")
  stop_emulator "$tok_pid"
  start_emulator "$tok" demo "${tok_addr#https://}"
  tok_pid=$emu_pid
  oms=""
  if need npm && need node && (cd "$work" && npm install --prefix "$work/oms" --no-audit --no-fund --loglevel=error "oauth2-mock-server@$OMS_VERSION" >/dev/null 2>&1); then
    oms_port=$((20000 + RANDOM % 20000))
    # Over TLS with the emulator's own server certificate, as the emulator answers.
    node "$work/oms/node_modules/.bin/oauth2-mock-server" -a 127.0.0.1 -p "$oms_port" -c "$tok/server.pem" -k "$tok/server-key.pem" >"$work/oms.log" 2>&1 &
    pids+=("$!")
    oms_pid=$!
    for _ in $(seq 100); do curl -sf --cacert "$tok/ca.pem" "https://127.0.0.1:$oms_port/.well-known/openid-configuration" >/dev/null 2>&1 && break; sleep 0.1; done
    oms="https://127.0.0.1:$oms_port/token"
    # And over plain HTTP, its fastest.
    node "$work/oms/node_modules/.bin/oauth2-mock-server" -a 127.0.0.1 -p "$((oms_port + 1))" >"$work/oms-http.log" 2>&1 &
    pids+=("$!")
    oms_http_pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((oms_port + 1))/.well-known/openid-configuration" >/dev/null 2>&1 && break; sleep 0.1; done
    oms_http="http://127.0.0.1:$((oms_port + 1))/token"
  else
    echo "  oauth2-mock-server@$OMS_VERSION could not be installed with npm: its row stays empty" >&2
  fi
  entra=""
  if need entra-emulator; then
    echo "  entra-emulator found: measured too (start it yourself with ENTRA_TOKEN_URL and ENTRA_BODY)" >&2
    entra=${ENTRA_TOKEN_URL:-}
  fi
  ctype="Content-Type: application/x-www-form-urlencoded"
  : >"$work/tok.ours"; : >"$work/tok.oms"; : >"$work/tok.oms-http"; : >"$work/tok.entra"
  for _ in $(seq "$ROUNDS"); do
    wrk_run "$tok_url" "$work/token.body" "$ctype" >>"$work/tok.ours"
    [ -n "$oms" ] && wrk_run "$oms" "$work/token.body" "$ctype" >>"$work/tok.oms"
    [ -n "$oms" ] && wrk_run "$oms_http" "$work/token.body" "$ctype" >>"$work/tok.oms-http"
    [ -n "$entra" ] && wrk_run "$entra" "${ENTRA_BODY:-$work/token.body}" "$ctype" >>"$work/tok.entra"
  done
  ours=$(awk '{print $1}' "$work/tok.ours" | median)
  ours_p99=$(awk '{print $2}' "$work/tok.ours" | median)
  oms_r=$(awk '{print $1}' "$work/tok.oms" | median)
  oms_http_r=$(awk '{print $1}' "$work/tok.oms-http" | median)
  entra_r=$(awk '{print $1}' "$work/tok.entra" | median)
  tok_mib=$(awk -v k="$(peak_kb "$tok_pid")" 'BEGIN {printf "%.1f", k/1024}')
  row token "emulator tokens/s (p99 ${ours_p99} ms)" "$ours" "tok/s" "oauth2-mock-server $OMS_VERSION, TLS" "$oms_r" "$(ratio "$ours" "$oms_r")" ">= 1"
  row token "emulator tokens/s" "$ours" "tok/s" "oauth2-mock-server $OMS_VERSION, plain HTTP" "$oms_http_r" "$(ratio "$ours" "$oms_http_r")" ">= 1"
  row token "emulator tokens/s" "$ours" "tok/s" "entra-emulator$([ -z "$entra" ] && echo ' (not available here)')" "$entra_r" "$(ratio "$ours" "$entra_r")" ">= 2"
  row token "emulator peak RSS under that load" "$tok_mib" MiB "limit" 50 "$(ratio "$tok_mib" 50)" "<= 1"
  stop_emulator "$tok_pid"
  [ -n "$oms" ] && kill "$oms_pid" "$oms_http_pid" 2>/dev/null || true

  say "pages: Get-Mailbox pages of 1,000 at 64 connections"
  echo '{"CmdletInput":{"CmdletName":"Get-Mailbox","Parameters":{"ResultSize":"Unlimited"}}}' >"$work/mbx.body"
  # Restart on the seeded folder, so that the peak RSS is the load's, not the seeding's.
  # Same address: the token's audience is the emulator's URL.
  stop_emulator "$main_pid"
  start_emulator "$emu" "$SEED" "${url#https://}"
  main_pid=$emu_pid
  # A page of 1,000 mailboxes is 13 MB: at 64 connections one takes seconds, past wrk's
  # default timeout, which would leave the latencies out.
  read -r mr mp mt < <(WRK_TIMEOUT=30s wrk_run "$invoke" "$work/mbx.body" "Authorization: Bearer $token" "Content-Type: application/json" "Prefer: odata.maxpagesize=1000")
  pg_mib=$(awk -v k="$(peak_kb "$main_pid")" 'BEGIN {printf "%.1f", k/1024}')
  row pages "Get-Mailbox pages/s (p99 ${mp} ms, ${mt} MB/s)" "$mr" "pages/s" "" "" "" ""
  row pages "emulator peak RSS under that load" "$pg_mib" MiB "limit" 100 "$(ratio "$pg_mib" 100)" "<= 1"
else
  echo "wrk is not installed (apt-get install -y wrk): token and pages rows stay empty" >&2
fi

say "start: process start to first token, in-process emulator.Start"
stop_emulator "$main_pid"
# An empty folder takes the spare seeded folder the emulator before it made (each emulator
# makes one); "nothing made ahead" is a machine's very first start (EXOCTL_EMULATOR_SPARE=off):
# two RSA keys generated and the demo tenant seeded on the spot.
: >"$work/start.existing"; : >"$work/start.empty"; : >"$work/start.first"
for i in $(seq "$ROUNDS"); do
  "$work/tokenload" -data "$emu" -start "$work/exoctl-emulator" emulator start --addr 127.0.0.1:0 --data "$emu" --seed "$SEED" >>"$work/start.existing"
  mkdir -p "$work/empty$i" "$work/first$i"
  "$work/tokenload" -data "$work/empty$i" -start "$work/exoctl-emulator" emulator start --addr 127.0.0.1:0 --data "$work/empty$i" >>"$work/start.empty"
  EXOCTL_EMULATOR_SPARE=off "$work/tokenload" -data "$work/first$i" -start "$work/exoctl-emulator" emulator start --addr 127.0.0.1:0 --data "$work/first$i" >>"$work/start.first"
done
se=$(median <"$work/start.existing")
sm=$(median <"$work/start.empty")
sf=$(median <"$work/start.first")
row start "process start to first token, existing data" "$se" ms "limit" 50 "$(ratio "$se" 50)" "<= 1"
row start "process start to first token, empty folder" "$sm" ms "limit" 50 "$(ratio "$sm" 50)" "<= 1"
row start "process start to first token, empty folder, nothing made ahead" "$sf" ms "limit" 50 "$(ratio "$sf" 50)" ""
go test -run '^$' -bench '^BenchmarkStart$' -benchtime "$([ -n "$QUICK" ] && echo 2x || echo 10x)" ./emulator/ >"$work/start.bench" 2>&1 || cat "$work/start.bench" >&2
# fresh: no data folder (a throwaway emulator, as Go tests start one) in a process that has
# started one before; restart: a data folder that exists. Each with its Close.
for sub in fresh restart; do
  v=$(awk -v s="BenchmarkStart/$sub" 'index($1, s) == 1 {printf "%.1f", $3/1e6}' "$work/start.bench")
  what=$([ "$sub" = fresh ] && echo "no data folder, warm process" || echo "existing data folder")
  row start "in-process emulator.Start + Close, $what" "$v" ms "limit" 20 "$(ratio "$v" 20)" "<= 1"
done

say "go: psparam, table rendering, token cache"
go test -run '^$' -bench 'BenchmarkParseLine40|BenchmarkMarshal40' -benchtime "$([ -n "$QUICK" ] && echo 100x || echo 1s)" ./psparam/ >"$work/go.bench" 2>&1 || true
go test -run '^$' -bench 'BenchmarkTable1000$|BenchmarkNDJSON1000$' -benchtime "$([ -n "$QUICK" ] && echo 2x || echo 1s)" ./format/ >>"$work/go.bench" 2>&1 || true
go test -run '^$' -bench 'BenchmarkReplaceExport$' -benchtime "$([ -n "$QUICK" ] && echo 10x || echo 1s)" ./auth/tokencache/ >>"$work/go.bench" 2>&1 || true
awk '/^Benchmark/ {name=$1; sub(/-[0-9]+$/, "", name); printf "go\t%s\t%.1f\tus/op\t\t\t\t\n", name, $3/1000}' "$work/go.bench" >>"$rows"

# The table and bench/results.json.
cpu=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
machine="$(nproc) cores, $cpu, $(uname -sr), $(go env GOVERSION)"
echo
echo "exoctl bench, $(date -u +%Y-%m-%dT%H:%MZ), $machine, load average $(cut -d' ' -f1-3 /proc/loadavg)"
{
  printf 'scenario\tfigure\tvalue\tunit\tpeer or limit\tits value\tratio\tgoal\n'
  cat "$rows"
} | column -t -s $'\t' -o ' | '
mkdir -p "$root/bench"
jq -R -s --arg machine "$machine" --arg when "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg quick "${QUICK:+1}" \
  --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
  {when: $when, machine: $machine, load_average: $load, quick: ($quick == "1"),
   rows: [split("\n")[] | select(length > 0) | split("\t") |
     {scenario: .[0], figure: .[1], value: (.[2] | tonumber? // null), unit: .[3],
      peer: .[4], peer_value: (.[5] | tonumber? // null), ratio: (.[6] | tonumber? // null), goal: .[7]}]}' \
  "$rows" >"$work/results.json"
if [ -n "$QUICK" ]; then
  echo "(quick pass: bench/results.json left as it is)"
else
  cp "$work/results.json" "$root/bench/results.json"
  echo "wrote bench/results.json"
fi
