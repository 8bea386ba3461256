#!/usr/bin/env bash
# Reloads under load, berth vs HAProxy: the same keep-alive wrk load against each
# proxy while its config is reloaded 50 times, alternating two configs that route
# /a to two different backends. Counts wrk's socket errors and non-2xx answers.
#
#   scripts/bench-reload.sh [--berth PATH] [--reloads N] [--seconds S] [--conns C]
#
# berth reloads with SIGHUP; HAProxy with `haproxy -sf OLDPID` (a new process takes
# over, the old finishes). Prints berth's SIGHUP→serving times from its log.
set -euo pipefail
BERTH=.build/release/berth RELOADS=50 SECS=12 CONNS=32
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --reloads) RELOADS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
BERTH=$(realpath "$BERTH")
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
W=$(mktemp -d /tmp/bench-reload.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pkill -f "$W/hap" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
B1=18180 B2=18181 BRT=18183 HAP=18184

cat >"$W/back.conf" <<CONF
daemon off; worker_processes 1; pid $W/back.pid; error_log $W/back.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$B1 reuseport; location / { return 200 "one\n"; } }
  server { listen 127.0.0.1:$B2 reuseport; location / { return 200 "two\n"; } } }
CONF
"$NGINX" -c "$W/back.conf" -p "$W" & pids+=($!)

for i in 1 2; do
  port=$([[ $i == 1 ]] && echo $B1 || echo $B2)
  printf 'listen 127.0.0.1:%s\nworkers 1\napp a {\n  path /a\n  upstream 127.0.0.1:%s\n}\n' $BRT $port >"$W/berth$i.conf"
  cat >"$W/hap$i.cfg" <<CONF
global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HAP
  use_backend a if { path_beg /a }
backend a
  http-request replace-path /a(/)?(.*) /\2
  server s1 127.0.0.1:$port
CONF
done

cp "$W/berth1.conf" "$W/berth.conf"
"$BERTH" serve --config "$W/berth.conf" --state-dir "$W" >"$W/berth.out" 2>"$W/berth.log" & pids+=($!); bpid=$!
"$HAPROXY" -f "$W/hap1.cfg" -p "$W/hap.pid" -D
sleep 0.5
curl -fsS -o /dev/null "http://127.0.0.1:$BRT/a/" && curl -fsS -o /dev/null "http://127.0.0.1:$HAP/a/"

gap=$(awk -v s="$SECS" -v n="$RELOADS" 'BEGIN { printf "%.3f", (s - 1.5) / n }')
run() {  # name port reload-command-prefix
  local name=$1 port=$2
  wrk -t2 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$port/a/" >"$W/$name.wrk" 2>&1 &
  local wrkpid=$!
  sleep 0.5
  for i in $(seq 1 "$RELOADS"); do
    local n=$(( i % 2 + 1 ))
    if [[ $name == berth ]]; then
      cp "$W/berth$n.conf" "$W/berth.conf"; kill -HUP "$bpid"
    else
      "$HAPROXY" -f "$W/hap$n.cfg" -p "$W/hap.pid" -D -sf "$(cat "$W/hap.pid")"
    fi
    sleep "$gap"
  done
  wait "$wrkpid"
  local req errs non2xx
  req=$(awk '/requests in/ {print $1}' "$W/$name.wrk")
  errs=$(grep -E 'Socket errors' "$W/$name.wrk" | sed 's/^ *//' || true)
  non2xx=$(awk '/Non-2xx/ {print $5}' "$W/$name.wrk")
  printf '%-8s %8s requests, %s reloads, socket errors: %s, non-2xx: %s\n' "$name" "$req" "$RELOADS" "${errs:-none}" "${non2xx:-0}"
}
run berth $BRT
run haproxy $HAP
grep -o 'took_ms=[0-9.]*' "$W/berth.log" | cut -d= -f2 | sort -g |
  awk '{a[NR]=$1} END {printf "berth SIGHUP→new table serving: median %.3f ms, max %.3f ms over %d applied reloads\n", a[int((NR+1)/2)], a[NR], NR}'
