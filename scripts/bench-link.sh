#!/usr/bin/env bash
# Link figures for berth serve, on this machine:
#  1. pgbench -S (select-only) with 8 clients against Postgres 15 (Debian's
#     packages) in a service container: from a consumer container through a
#     `link` (berth's forwarding between two network namespaces) vs inside the
#     db container on its own loopback, same serve, rounds interleaved;
#  2. 1 GiB each way through a link to a busybox echo service: serve's RSS
#     before, its peak while the bytes flow (sampled every 50 ms) and after.
#
#   scripts/bench-link.sh [--berth PATH] [--state-dir DIR] [--seconds S] [--rounds N]
#
# The Postgres image is FROM debian:bookworm-slim (bootstrapped by mmdebstrap
# the first time, then cached in the state dir).
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH=.build/release/berth STATE=/var/tmp/berth-bench-link SECS=20 ROUNDS=2
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --state-dir) STATE=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
BERTH=$(realpath "$BERTH")
W=$(mktemp -d /tmp/bench-link.XXXXXX)
serve_pid=""
cleanup() {
  [[ -n $serve_pid ]] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$STATE" "$W/db" "$W/bb/bin"

cat >"$W/db/Dockerfile" <<'EOF'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data && chown postgres:postgres /var/lib/postgresql/data && chmod 700 /var/lib/postgresql/data
COPY start.sh /start.sh
ENV PGDATA=/var/lib/postgresql/data
USER postgres
CMD ["/bin/sh", "/start.sh"]
EOF
cat >"$W/db/start.sh" <<'EOF'
set -e
B=/usr/lib/postgresql/15/bin
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  $B/initdb -D "$PGDATA" -U app --pwfile=/run/secrets/db-password --auth-host=scram-sha-256 --auth-local=trust >/dev/null
fi
exec $B/postgres -D "$PGDATA" -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp -c max_connections=50
EOF
echo bench-password >"$W/db-password"
# A busybox image for the echo service (the host's static busybox).
cp /bin/busybox "$W/bb/bin/busybox"
for t in sh sleep cat mkdir chmod printf; do ln -s busybox "$W/bb/bin/$t"; done
tar -C "$W/bb" -cf "$W/busybox.tar" .
"$BERTH" image import "$W/busybox.tar" bench-busybox --state-dir "$STATE" >/dev/null
"$BERTH" volume rm bench-pgdata --state-dir "$STATE" >/dev/null 2>&1 || true

cat >"$W/proxy.conf" <<EOF
listen 127.0.0.1:18095
workers 1
timeouts {
    start 120s
    drain 1s
}
app db {
    build $W/db
    port 5432
    volume bench-pgdata:/var/lib/postgresql/data
    secret db-password $W/db-password
    health exec /usr/lib/postgresql/15/bin/pg_isready -h 127.0.0.1 -p 5432 interval 500ms timeout 3s
}
app client {
    build $W/db
    command /bin/sleep 100000
    link db
    link echo 7100
}
app echo {
    image bench-busybox
    port 7000
    command /bin/busybox nc -ll -p 7000 -e /bin/cat
}
EOF
"$BERTH" serve --config "$W/proxy.conf" --state-dir "$STATE" >"$W/serve.out" 2>"$W/serve.err" &
serve_pid=$!
for _ in $(seq 1200); do grep -q "apps started" "$W/serve.out" && break; sleep 0.25; done
grep -q "apps started" "$W/serve.out" || { cat "$W/serve.out" "$W/serve.err" >&2; exit 1; }

pid_of() {  # APP: the pid of its running container's init
  local id
  id=$(python3 -c "import json,sys; print(next(r['container'] for r in json.load(open('$STATE/ps.json')) if r['app']=='$1' and r['state']=='running'))")
  runc --root "$STATE/runc" state "$id" | python3 -c "import json,sys; print(json.load(sys.stdin)['pid'])"
}
DB=$(pid_of db) CLIENT=$(pid_of client)
pg() {  # PID ARGS: pgbench inside that container's namespaces (its files, its network)
  local p=$1; shift
  nsenter -t "$p" -a env PGPASSWORD=bench-password /usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p 5432 -U app "$@" postgres
}
pg "$DB" -i -q -s 10 >/dev/null 2>&1
tps() { awk '/^tps/ {print int($3)}'; }
local_all=() link_all=()
for r in $(seq "$ROUNDS"); do
  l=$(pg "$DB" -S -c 8 -j 2 -T "$SECS" 2>/dev/null | tps)
  k=$(pg "$CLIENT" -S -c 8 -j 2 -T "$SECS" 2>/dev/null | tps)
  local_all+=("$l"); link_all+=("$k")
  echo "round $r: pgbench -S -c 8: db's own loopback $l tps, through the link $k tps"
done
# The same relay by HAProxy 2.6 (mode tcp, one thread) inside the db's
# namespace, for scale: what a user-space TCP relay costs on this machine.
cat >"$W/haproxy.cfg" <<EOF
global
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen pg
    bind 127.0.0.1:15432
    server db 127.0.0.1:5432
EOF
haproxy_all=()
if command -v haproxy >/dev/null; then
  nsenter --net=/proc/"$DB"/ns/net haproxy -f "$W/haproxy.cfg" -D -p "$W/haproxy.pid"
  for r in $(seq "$ROUNDS"); do
    h=$(nsenter -t "$DB" -a env PGPASSWORD=bench-password /usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p 15432 -U app -S -c 8 -j 2 -T "$SECS" postgres 2>/dev/null | tps)
    haproxy_all+=("$h")
    echo "round $r: through HAProxy (mode tcp, in db's namespace) $h tps"
  done
  kill "$(cat "$W/haproxy.pid")"
fi
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
L=$(med "${local_all[@]}") K=$(med "${link_all[@]}")
awk -v l="$L" -v k="$K" 'BEGIN { printf "pgbench -S -c 8 -T %s (median): loopback %d tps, link %d tps, link/loopback %.2f\n", '"$SECS"', l, k, k / l }'
if ((${#haproxy_all[@]})); then
  H=$(med "${haproxy_all[@]}")
  awk -v l="$L" -v h="$H" -v k="$K" 'BEGIN { printf "HAProxy relay %d tps, haproxy/loopback %.2f; berth link/haproxy %.2f\n", h, h / l, k / h }'
fi

rss() { awk "/^$1:/ {print \$2}" "/proc/$serve_pid/status"; }
before=$(rss VmRSS)
cat >"$W/transfer.py" <<'EOF'
import hashlib, os, socket, threading
s = socket.create_connection(("127.0.0.1", 7100))
total = 1 << 30
chunk = os.urandom(1 << 20)
def send():
    for _ in range(total >> 20):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=send); t.start()
n = 0
while True:
    b = s.recv(1 << 20)
    if not b: break
    n += len(b)
t.join()
print("echoed", n, "bytes", "ok" if n == total else "SHORT")
EOF
# serve's RSS sampled every 50 ms while the transfer runs (VmHWM would include the builds).
( peak=0; while [[ ! -e "$W/done" ]]; do r=$(rss VmRSS); (( r > peak )) && peak=$r && echo "$peak" >"$W/peak"; sleep 0.05; done ) &
sampler=$!
start=$(date +%s.%N)
result=$(nsenter --net=/proc/"$CLIENT"/ns/net python3 "$W/transfer.py")
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
touch "$W/done"; wait "$sampler" || true
peak=$(cat "$W/peak") after=$(rss VmRSS)
echo "1 GiB each way through a link ($result, ${took}s): serve RSS $((before / 1024)) MiB before, peak $((peak / 1024)) MiB (+$(((peak - before) / 1024)) MiB), $((after / 1024)) MiB after"
