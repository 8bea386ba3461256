#!/usr/bin/env bash
# HTTP/2 over TLS, berth vs HAProxy 2.6: `h2load -c 16 -m 32 -n N` against each,
# one pinned thread per proxy (core 0; h2load and the nginx backend on core 1),
# the same certificate and backend, several rounds. Prints requests/s and the
# proxies' CPU per request (microseconds, from /proc/PID/stat) and their ratio.
#
#   scripts/bench-h2.sh [--berth PATH] [--requests N] [--rounds R]
set -euo pipefail
BERTH=.build/release/berth N=200000 ROUNDS=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --requests) N=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
BERTH=$(realpath "$BERTH")
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
W=$(mktemp -d /tmp/bench-h2.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
BACK=18280 BRT=18281 HAP=18282
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$W/k.pem" -out "$W/c.pem" -subj /CN=bench.test 2>/dev/null
cat "$W/c.pem" "$W/k.pem" >"$W/both.pem"
cat >"$W/back.conf" <<CONF
daemon off; worker_processes 1; pid $W/back.pid; error_log $W/back.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACK; location / { return 200 "hello\n"; } } }
CONF
taskset -c 1 "$NGINX" -c "$W/back.conf" -p "$W" & pids+=($!)
printf 'listen 127.0.0.1:%s tls cert=%s key=%s\nworkers 1\napp a {\n  path /\n  upstream 127.0.0.1:%s\n}\n' $BRT "$W/c.pem" "$W/k.pem" $BACK >"$W/berth.conf"
taskset -c 0 "$BERTH" serve --config "$W/berth.conf" --pid-file "$W/berth.pid" >"$W/berth.out" 2>"$W/berth.log" & pids+=($!); brt=$!
cat >"$W/hap.cfg" <<CONF
global
  nbthread 1
  cpu-map 1/1 0
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HAP ssl crt $W/both.pem alpn h2,http/1.1
  default_backend b
backend b
  server s1 127.0.0.1:$BACK
CONF
taskset -c 0 "$HAPROXY" -f "$W/hap.cfg" -db >/dev/null 2>&1 & pids+=($!); hap=$!
sleep 1
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
declare -A cpu rps
for r in $(seq 1 "$ROUNDS"); do
  for name in berth haproxy; do
    port=$([[ $name == berth ]] && echo $BRT || echo $HAP); pid=$([[ $name == berth ]] && echo $brt || echo $hap)
    t0=$(ticks "$pid")
    out=$(taskset -c 1 h2load -c 16 -m 32 -n "$N" "https://127.0.0.1:$port/" 2>&1)
    t1=$(ticks "$pid")
    ok=$(echo "$out" | awk '/^requests:/ {print $8}')
    [[ "$ok" == "$N" ]] || { echo "$name round $r: not every request succeeded:"; echo "$out" | grep -E "requests:|status codes"; }
    proto=$(echo "$out" | awk '/Application protocol/ {print $3}')
    rps[$name]+="$(echo "$out" | awk '/^finished in/ {print $4}') "
    cpu[$name]+="$(awk -v a="$t0" -v b="$t1" -v n="$N" -v hz="$HZ" 'BEGIN { printf "%.2f", (b-a)/hz*1e6/n }') "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cb=$(echo "${cpu[berth]}" | median); ch=$(echo "${cpu[haproxy]}" | median)
printf 'h2 over TLS (%s, h2load -c 16 -m 32 -n %s, %s rounds): berth %s req/s, %s us/req; haproxy %s req/s, %s us/req; cpu-per-request ratio berth/haproxy %.2f\n' \
  "$proto" "$N" "$ROUNDS" "$(echo "${rps[berth]}" | median)" "$cb" "$(echo "${rps[haproxy]}" | median)" "$ch" "$(awk -v a="$cb" -v b="$ch" 'BEGIN {print a/b}')"
