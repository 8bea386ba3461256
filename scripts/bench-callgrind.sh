#!/usr/bin/env bash
# Instructions per proxied request, counted by callgrind (repeatable on this
# noisy VM, unlike wall time): berth serve with one worker in front of an nginx
# backend, keep-alive GETs from one Python client. Two runs under valgrind, one
# with 200 warm-up requests and one with 200 + N; the difference over N is the
# cost of one request (start-up, warm-up and exit cancel out).
#
#   bash scripts/bench-callgrind.sh [--berth PATH] [--requests N] [--close]
#
# --close: a new client connection for every request (connection setup and
# teardown counted too).
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH=.build/release/berth N=10000 CLOSE=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --requests) N=$2; shift 2 ;;
    --close) CLOSE=1; shift ;;
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
cat >"$W/proxy.conf" <<CONF
listen 127.0.0.1:$FRONT
workers 1
app hello {
    path /
    upstream 127.0.0.1:$BACK
}
CONF
# valgrind 3.19 cannot read the DWARF 5 Swift emits: count a copy without it.
cp "$BERTH" "$W/berth"
strip --strip-debug "$W/berth"

# Instructions of one serve that answered 200 + $1 requests.
run() {
  rm -f "$W"/cg.out
  valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" "$W/berth" serve --config "$W/proxy.conf" \
    --state-dir "$W/state" >"$W/serve.out" 2>"$W/serve.err" &
  local vg=$!
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
  kill -TERM "$vg"
  wait "$vg" || true
  grep -E '^summary:' "$W/cg.out" | awk '{print $2}'
}
base=$(run 0)
full=$(run "$N")
kind=$([[ $CLOSE == 1 ]] && echo "new-connection" || echo "keep-alive")
echo "berth $("$BERTH" --version): $N $kind requests: $((full - base)) instructions, $(((full - base) / N)) per request (serve with 200 requests: $base)"
