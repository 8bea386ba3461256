#!/usr/bin/env bash
# Growth with the number of apps: berth (one worker on CPU 0) with 1, 100,
# 2,000 and 10,000 path-routed apps, wrk on /app1 (the shortest path: the route
# a longest-prefix-first scan of every app reaches last); prints CPU per
# request and the time a SIGHUP reload of a one-app change takes (median of 5).
#
#   bash scripts/bench-routes.sh [--berth PATH] [--apps "1 100 2000 10000"] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH=.build/release/berth APPS="1 100 2000 10000" SECS=4
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --apps) APPS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk) >/dev/null
W=$(mktemp -d /tmp/berth-routes.XXXXXX); chmod 755 "$W"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
BACK=18390 FRONT=18391
source scripts/bench-backend.sh
start_backend "$BACK" 1
ticks=$(getconf CLK_TCK)

conf() {  # N [changed-app]
  { echo "listen 127.0.0.1:$FRONT"; echo "workers 1"
    for i in $(seq 1 "$1"); do
      printf 'app a%d {\n    path /app%d\n    upstream 127.0.0.1:%d\n' "$i" "$i" "$BACK"
      [[ "${2:-}" == "$i" ]] && printf '    balance leastconn\n'
      printf '}\n'
    done; } >"$W/proxy.conf"
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for n in $APPS; do
  conf "$n"
  taskset -c 0 "$BERTH" serve --config "$W/proxy.conf" --state-dir "$W/state" >"$W/serve.out" 2>"$W/serve.err" &
  bp=$!
  for _ in $(seq 200); do curl -fs -o /dev/null "http://127.0.0.1:$FRONT/app$n/" && break; sleep 0.05; done
  before=$(cpu "$bp")
  out=$(taskset -c 1 wrk -t1 -c32 -d"${SECS}s" "http://127.0.0.1:$FRONT/app1/")
  after=$(cpu "$bp")
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  us=$(awk -v t=$((after - before)) -v r="$reqs" -v hz="$ticks" 'BEGIN { printf "%.2f", t / hz * 1e6 / r }')
  # Reloads that change one app (its balance, on then off): the median of 5
  # (one wall-clock sample on this noisy VM says little).
  for r in 1 2 3 4 5; do
    if (( r % 2 )); then conf "$n" "$n"; else conf "$n"; fi
    kill -HUP "$bp"
    for _ in $(seq 400); do (( $(grep -c "reload applied" "$W/serve.err") >= r )) && break; sleep 0.025; done
  done
  took=$(grep "reload applied" "$W/serve.err" | sed -E 's/.*took_ms=([0-9.]+).*/\1/' | sort -n | awk '{a[NR]=$1} END {if (NR) printf "%s (min %s, max %s)", a[int((NR+1)/2)], a[1], a[NR]}')
  printf 'apps %6d  %8d requests  CPU %6s us/request  one-app reload %s ms\n' "$n" "$reqs" "$us" "${took:-?}"
  kill -TERM "$bp"; wait "$bp" 2>/dev/null || true
  rm -rf "$W/state"
done
