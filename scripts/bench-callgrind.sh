#!/usr/bin/env bash
# Instructions per proxied request, counted by callgrind (repeatable on this
# noisy VM, unlike wall time): berth serve with one worker in front of an nginx
# backend, keep-alive GETs from one Python client. Two runs under valgrind, one
# with 200 warm-up requests and one with 200 + N; the difference over N is the
# cost of one request (start-up, warm-up and exit cancel out).
#
#   bash scripts/bench-callgrind.sh [--berth PATH] [--requests N] [--close | --h2]
#
# --close: a new client connection for every request (connection setup and
# teardown counted too).
# --h2: HTTP/2 over TLS (ALPN h2, one ECDSA P-256 certificate) from h2load,
# 4 connections of 8 concurrent streams (`h2load -c 4 -m 8`); the TLS
# handshakes are in both runs and cancel out, the record layer is counted.
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH=.build/release/berth N=10000 CLOSE=0 H2=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --requests) N=$2; shift 2 ;;
    --close) CLOSE=1; shift ;;
    --h2) H2=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
command -v valgrind >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind) >/dev/null
[[ -x /usr/sbin/nginx ]] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light) >/dev/null

W=$(mktemp -d /tmp/berth-cg.XXXXXX); chmod 755 "$W"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
BACK=18190 FRONT=18191
source scripts/bench-backend.sh
start_backend "$BACK"
LISTEN="127.0.0.1:$FRONT"
if [[ $H2 == 1 ]]; then
  command -v h2load >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nghttp2-client) >/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout "$W/k.pem" -out "$W/c.pem" -subj /CN=bench.test 2>/dev/null
  LISTEN="$LISTEN tls cert=$W/c.pem key=$W/k.pem"
fi
cat >"$W/proxy.conf" <<CONF
listen $LISTEN
workers 1
app hello {
    path /
    upstream 127.0.0.1:$BACK
}
CONF
# valgrind 3.19 cannot read the DWARF 5 Swift emits: count a copy without it.
cp "$BERTH" "$W/berth"
strip --strip-debug "$W/berth"

# 200 + $1 h2 requests once berth answers: every one a 200.
h2_requests() {
  local i out
  for i in $(seq 600); do
    curl -sk --http2 -o /dev/null "https://127.0.0.1:$FRONT/" && break
    sleep 0.1
  done
  out=$(h2load -c 4 -m 8 -n $((199 + $1)) "https://127.0.0.1:$FRONT/" 2>&1)
  echo "$out" | grep -q "status codes: $((199 + $1)) 2xx" || { echo "h2load: $out" >&2; return 1; }
}

# Instructions of one serve that answered 200 + $1 requests.
run() {
  rm -f "$W"/cg.out
  valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$W/berth" serve --config "$W/proxy.conf" \
    --state-dir "$W/state" >"$W/serve.out" 2>"$W/serve.err" &
  local vg=$!
  if [[ $H2 == 1 ]]; then
    h2_requests "$1" || { kill "$vg"; exit 1; }
  else
  python3 - "$FRONT" "$1" "$CLOSE" <<'PY' || { kill "$vg"; exit 1; }
import http.client, sys, time
port, n, close = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
for _ in range(600):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        c.request("GET", "/"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("berth did not answer")
for _ in range(199 + n):
    if close:
        c.close()
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", "/"); r = c.getresponse()
    if r.status != 200 or r.read() != b"Hello world!\n": sys.exit("bad answer %d" % r.status)
c.close()
PY
  fi
  kill -TERM "$vg"
  wait "$vg" || true
  grep -E '^summary:' "$W/cg.out" | awk '{print $2}'
}
base=$(run 0)
full=$(run "$N")
kind=$([[ $CLOSE == 1 ]] && echo "new-connection" || echo "keep-alive")
[[ $H2 == 1 ]] && kind="h2-over-TLS (h2load -c 4 -m 8)"
echo "berth $("$BERTH" --version): $N $kind requests: $((full - base)) instructions, $(((full - base) / N)) per request (serve with 200 requests: $base)"
