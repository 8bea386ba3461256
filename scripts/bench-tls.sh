#!/usr/bin/env bash
# TLS termination side by side: berth vs HAProxy, same certificate (self-signed
# RSA 2048 made here), same nginx backend, keep-alive HTTPS load from wrk.
# As ../shared/bench/peers.sh: each proxy one thread on CPU 0, backend and wrk on
# CPU 1, rounds interleaved; prints median req/s, p99 and proxy CPU per request.
#
#   scripts/bench-tls.sh [--berth PATH] [--rounds N] [--seconds S] [--conns C] [--close] [--ecdsa]
#
# --close: wrk sends "Connection: close", so every request is a new TLS
# connection: wrk resumes each of its connections' last session (SSL_clear keeps it), so
# after the first full RSA-2048 handshake per wrk connection, handshakes are TLS 1.3 resumptions.
# --ecdsa: an ECDSA P-256 certificate instead (what `tls auto` gets by default).
set -euo pipefail
BERTH=.build/release/berth ROUNDS=3 SECS=5 CONNS=64 WRK_EXTRA=() MODE="TLS keep-alive" KEYTYPE=(-newkey rsa:2048)
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --close) WRK_EXTRA=(-H "Connection: close"); MODE="TLS close"; shift ;;
    --ecdsa) KEYTYPE=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); MODE="$MODE ECDSA"; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
BERTH=$(realpath "$BERTH")
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
W=$(mktemp -d /tmp/bench-tls.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
BACK=18280 HAP=18281 BRT=18283

openssl req -x509 "${KEYTYPE[@]}" -nodes -days 2 -keyout "$W/key.pem" -out "$W/cert.pem" -subj /CN=bench.test 2>/dev/null
cat "$W/cert.pem" "$W/key.pem" >"$W/combined.pem"

cat >"$W/back.conf" <<NGINX
daemon off; worker_processes 1; pid $W/back.pid; error_log $W/back.err;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$BACK reuseport backlog=4096;
    location / { default_type text/plain; return 200 "Hello world!\n"; } } }
NGINX
taskset -c 1 "$NGINX" -c "$W/back.conf" -p "$W" & pids+=($!)

cat >"$W/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  cpu-map 1/1 0
  maxconn 4096
  ssl-default-bind-options ssl-min-ver TLSv1.2
  ssl-default-bind-ciphers ECDHE+AESGCM:ECDHE+CHACHA20
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HAP ssl crt $W/combined.pem alpn http/1.1
  default_backend app
backend app
  http-request replace-path /app(/)?(.*) /\2
  server s1 127.0.0.1:$BACK
HAPROXY
taskset -c 0 "$HAPROXY" -f "$W/haproxy.cfg" -db >/dev/null 2>&1 & pids+=($!); hap_pid=$!

cat >"$W/proxy.conf" <<BERTHCONF
listen 127.0.0.1:$BRT tls cert=$W/cert.pem key=$W/key.pem
workers 1
app app {
    path /app
    upstream 127.0.0.1:$BACK
}
BERTHCONF
taskset -c 0 "$BERTH" serve --config "$W/proxy.conf" --state-dir "$W/state" >"$W/berth.log" 2>&1 & pids+=($!); brt_pid=$!

for port in $HAP $BRT; do
  for _ in $(seq 1 100); do curl -fsSk -o /dev/null "https://127.0.0.1:$port/app/" 2>/dev/null && break; sleep 0.1; done
done
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)
names=(haproxy berth) ports=($HAP $BRT)
declare -A cpid=([haproxy]=$hap_pid [berth]=$brt_pid) rps lat cpu
for r in $(seq 1 "$ROUNDS"); do
  for i in "${!names[@]}"; do
    n=${names[$i]} p=${ports[$i]}
    t0=$(ticks "${cpid[$n]}")
    out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "${WRK_EXTRA[@]}" "https://127.0.0.1:$p/app/" 2>&1)
    t1=$(ticks "${cpid[$n]}")
    if grep -qE 'Socket errors|Non-2xx' <<<"$out"; then echo "round $r $n: $(grep -E 'Socket errors|Non-2xx' <<<"$out")" >&2; fi
    total=$(awk '/requests in/ {print $1}' <<<"$out")
    rps[$n]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
    lat[$n]+="$(awk '$1=="99%" {print $2}' <<<"$out") "
    cpu[$n]+="$(awk -v a="$t0" -v b="$t1" -v n="$total" -v hz="$HZ" 'BEGIN { printf "%.2f", (b-a)/hz*1e6/n }') "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for n in "${names[@]}"; do
  printf '%-8s median %10.0f req/s   p99 %8s   proxy CPU %6.2f us/req   rounds: %s\n' "$n" "$(median "${rps[$n]}")" \
    "$(median "${lat[$n]}")" "$(median "${cpu[$n]}")" "${rps[$n]}"
done
awk -v a="$(median "${rps[berth]}")" -v b="$(median "${rps[haproxy]}")" -v c="$(median "${cpu[berth]}")" -v d="$(median "${cpu[haproxy]}")" \
  -v mode="$MODE" 'BEGIN { printf "%s: throughput ratio berth/haproxy %.2f, cpu-per-request ratio berth/haproxy %.2f (lower is better)\n", mode, a / b, c / d }'
