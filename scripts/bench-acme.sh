#!/usr/bin/env bash
# Time from start to a verified HTTPS answer for three names, berth (`listen
# ... tls auto`) vs Caddy 2.6 (automatic HTTPS), against the same pebble
# (Let's Encrypt's test CA, Debian's package; pebble-challtestsrv as its DNS),
# rounds interleaved, each with empty certificate storage; medians.
#
#   scripts/bench-acme.sh [--berth PATH] [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH=.build/release/berth ROUNDS=3
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
BERTH=$(realpath "$BERTH")
for p in pebble caddy python3 curl; do
  command -v "$p" >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p") >/dev/null
done
W=$(mktemp -d /tmp/bench-acme.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
API=18400 MGMT=18401 DNS=18402 DNSM=18403 HTTP=18404 TLS=18405 BACK=18406
NAMES=(one.example.test two.example.test three.example.test)

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=pebble \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$W/pebble.key" -out "$W/pebble.pem" 2>/dev/null
cat >"$W/pebble.json" <<EOF
{"pebble": {"listenAddress": "127.0.0.1:$API", "managementListenAddress": "127.0.0.1:$MGMT",
  "certificate": "$W/pebble.pem", "privateKey": "$W/pebble.key", "httpPort": $HTTP, "tlsPort": $TLS,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
EOF
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 127.0.0.1:$DNS -http01 "" -https01 "" -tlsalpn01 "" \
  -management 127.0.0.1:$DNSM >"$W/dns.log" 2>&1 &
pids+=($!)
PEBBLE_VA_NOSLEEP=1 pebble -config "$W/pebble.json" -dnsserver 127.0.0.1:$DNS >"$W/pebble.log" 2>&1 &
pids+=($!)
python3 -m http.server $BACK --bind 127.0.0.1 --directory "$W" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf --cacert "$W/pebble.pem" https://127.0.0.1:$API/dir >/dev/null && break; sleep 0.1; done
curl -sf --cacert "$W/pebble.pem" https://127.0.0.1:$MGMT/roots/0 >"$W/root.pem"
echo ok >"$W/ok.txt"

verified() {  # all three names answer over HTTPS with a chain pebble's root verifies
  for n in "${NAMES[@]}"; do
    curl -sf --max-time 2 --cacert "$W/root.pem" --resolve "$n:$TLS:127.0.0.1" "https://$n:$TLS/ok.txt" >/dev/null || return 1
  done
}
clock() { date +%s.%N; }
until_verified() {  # START: seconds from START until verified (or 60 s: "timeout")
  for _ in $(seq 1200); do verified && { awk -v a="$1" -v b="$(clock)" 'BEGIN { printf "%.2f", b - a }'; return; }; sleep 0.05; done
  echo timeout
}

berth_round() {
  rm -rf "$W/berth-state"
  { echo "listen 127.0.0.1:$HTTP"; echo "listen 127.0.0.1:$TLS tls auto"; echo "workers 1"
    echo "acme {"; echo "    directory https://127.0.0.1:$API/dir"; echo "    ca-root $W/pebble.pem"; echo "}"
    for i in "${!NAMES[@]}"; do printf 'app a%d {\n    host %s\n    upstream 127.0.0.1:%d\n}\n' "$i" "${NAMES[$i]}" $BACK; done
  } >"$W/proxy.conf"
  local start; start=$(clock)
  "$BERTH" serve --config "$W/proxy.conf" --state-dir "$W/berth-state" >"$W/berth.out" 2>"$W/berth.err" &
  local p=$!
  until_verified "$start"
  kill -TERM $p; wait $p 2>/dev/null || true
}

caddy_round() {
  rm -rf "$W/caddy-data"
  cat >"$W/Caddyfile" <<EOF
{
    acme_ca https://127.0.0.1:$API/dir
    acme_ca_root $W/pebble.pem
    http_port $HTTP
    https_port $TLS
    storage file_system $W/caddy-data
    admin off
}
one.example.test, two.example.test, three.example.test {
    reverse_proxy 127.0.0.1:$BACK
}
EOF
  local start; start=$(clock)
  HOME=$W XDG_DATA_HOME=$W/caddy-data XDG_CONFIG_HOME=$W/caddy-config caddy run --config "$W/Caddyfile" --adapter caddyfile >"$W/caddy.log" 2>&1 &
  local p=$!
  until_verified "$start"
  kill -TERM $p; wait $p 2>/dev/null || true
}

b=() c=()
for r in $(seq "$ROUNDS"); do
  tb=$(berth_round); tc=$(caddy_round)
  b+=("$tb"); c+=("$tc")
  echo "round $r: start to three verified HTTPS names: berth ${tb}s, caddy ${tc}s"
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
B=$(med "${b[@]}") C=$(med "${c[@]}")
awk -v b="$B" -v c="$C" 'BEGIN { printf "start to three verified names (median): berth %ss, caddy %ss, berth/caddy %.2f\n", b, c, b / c }'
