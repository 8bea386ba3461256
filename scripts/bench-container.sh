#!/usr/bin/env bash
# Container figures for berth serve, on this machine:
#  1. start-to-healthy of a busybox httpd container under berth serve (its
#     "[run] ... healthy in Nms" line: overlay mount, bundle, runc, gate), under
#     Docker's default seccomp profile and with `seccomp unconfined`, vs
#     `runc run --detach` of the same kind of bundle alone, timed until its
#     port accepts inside its network namespace;
#  2. throughput through berth into an nginx container over its isolated
#     network namespace vs into the same image on the host network, same run
#     (wrk -t1 -c64, interleaved rounds; berth pinned to CPU 0, nginx and wrk to CPU 1,
#     as ../shared/bench/peers.sh does).
#
#   scripts/bench-container.sh [--berth PATH] [--state-dir DIR] [--rounds N] [--seconds S] [--start-only]
#
# --start-only: part 1 alone (no nginx image, no Debian bootstrap).
#
# The nginx image is FROM debian:bookworm-slim (bootstrapped by mmdebstrap the
# first time, then cached in the state dir).
set -euo pipefail
BERTH=.build/release/berth STATE=/var/tmp/berth-bench-state ROUNDS=3 SECS=5 START_ONLY=
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --state-dir) STATE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --start-only) START_ONLY=1; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
BERTH=$(realpath "$BERTH")
W=$(mktemp -d /tmp/bench-container.XXXXXX)
serve_pid=""
cleanup() {
  [[ -n $serve_pid ]] && kill -TERM "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  runc --root "$W/runc" delete --force bare 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
PORT=18090

# --- the images: busybox httpd, and nginx on Debian ---
mkdir -p "$W/bb/bin" "$W/web" "$W/nginx"
cp /bin/busybox "$W/bb/bin/busybox"
for t in sh httpd; do ln -s busybox "$W/bb/bin/$t"; done
tar -C "$W/bb" -cf "$W/bb.tar" .
"$BERTH" image import "$W/bb.tar" busybox --state-dir "$STATE" >/dev/null
echo 'Hello world!' >"$W/web/index.html"
printf 'FROM busybox\nCOPY index.html /www/index.html\nCMD ["/bin/httpd", "-f", "-p", "8000", "-h", "/www"]\n' >"$W/web/Dockerfile"
cat >"$W/nginx/berth.tpl" <<'CONF'
daemon off; worker_processes 1; pid /run/nginx.pid; error_log stderr;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:@PORT@ reuseport backlog=4096;
    location / { default_type text/plain; return 200 "Hello world!\n"; } } }
CONF
cat >"$W/nginx/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends nginx-light && rm -rf /var/lib/apt/lists/*
COPY berth.tpl /etc/nginx/berth.tpl
CMD ["/bin/sh", "-c", "sed \"s/@PORT@/${PORT:-8000}/\" /etc/nginx/berth.tpl > /etc/nginx/nginx.conf && exec nginx -c /etc/nginx/nginx.conf"]
DOCKERFILE
cat >"$W/proxy.conf" <<CONF
listen 127.0.0.1:$PORT
workers 1
app web {
    path /web
    build $W/web
    port 8000
    replicas 3
}
app webopen {
    path /webopen
    build $W/web
    port 8000
    replicas 3
    seccomp unconfined
}
CONF
[[ -n $START_ONLY ]] || cat >>"$W/proxy.conf" <<CONF
app iso {
    path /iso
    build $W/nginx
    port 8000
}
app host {
    path /host
    build $W/nginx
    network host
}
CONF

taskset -c 0 "$BERTH" serve --config "$W/proxy.conf" --state-dir "$STATE" >"$W/serve.out" 2>"$W/serve.err" &
serve_pid=$!
for _ in $(seq 1 1200); do grep -q '^\[serve\] apps started' "$W/serve.out" && break; sleep 0.5; done
grep -E '^\[run\]|^\[serve\]' "$W/serve.out"
for p in $(pgrep -x nginx); do taskset -pc 1 "$p" >/dev/null; done

# --- 1. start to healthy: berth vs runc alone ---
echo "berth  busybox httpd start-to-healthy, default seccomp profile: $(grep -o 'web  started [0-9]/3 .*healthy in [0-9]*ms' "$W/serve.out" | grep -o '[0-9]*ms' | tr '\n' ' ')"
echo "berth  busybox httpd start-to-healthy, seccomp unconfined:       $(grep -o 'webopen  started [0-9]/3 .*healthy in [0-9]*ms' "$W/serve.out" | grep -o '[0-9]*ms' | tr '\n' ' ')"
mkdir -p "$W/bare/rootfs/www"
cp -a "$W/bb/." "$W/bare/rootfs/"
cp "$W/web/index.html" "$W/bare/rootfs/www/"
(cd "$W/bare" && runc spec && python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/httpd", "-f", "-p", "8000", "-h", "/www"]
c["root"]["readonly"] = False
json.dump(c, open("config.json", "w"))
PY
)
times=() runs=()
for i in 1 2 3; do
  t0=$(date +%s%N)
  runc --root "$W/runc" run --detach --bundle "$W/bare" bare >/dev/null 2>&1 </dev/null
  t1=$(date +%s%N)
  pid=$(runc --root "$W/runc" state bare | grep -o '"pid": [0-9]*' | grep -o '[0-9]*$')
  until nsenter --net=/proc/$pid/ns/net bash -c 'exec 3<>/dev/tcp/127.0.0.1/8000' 2>/dev/null; do :; done
  t2=$(date +%s%N)
  times+=("$(( (t2 - t0) / 1000000 ))ms") runs+=("$(( (t1 - t0) / 1000000 ))ms")
  runc --root "$W/runc" delete --force bare
done
echo "runc   busybox httpd start-to-accepting (runc run --detach, polled with nsenter + bash /dev/tcp): ${times[*]}(of which runc run --detach returning: ${runs[*]})"

[[ -n $START_ONLY ]] && exit 0

# --- 2. throughput: isolated netns vs host network ---
declare -A res
for r in $(seq 1 "$ROUNDS"); do
  for p in iso host; do
    out=$(taskset -c 1 wrk -t1 -c64 -d"${SECS}s" "http://127.0.0.1:$PORT/$p/")
    if grep -qE 'Socket errors|Non-2xx' <<<"$out"; then echo "$p: errors: $out" >&2; exit 1; fi
    res[$p]+="$(awk '/Requests\/sec/ {print $2}' <<<"$out") "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
iso=$(median "${res[iso]}") host=$(median "${res[host]}")
printf 'isolated netns  median %10.0f req/s   rounds: %s\n' "$iso" "${res[iso]}"
printf 'host network    median %10.0f req/s   rounds: %s\n' "$host" "${res[host]}"
awk -v a="$iso" -v b="$host" 'BEGIN { printf "throughput ratio isolated/host %.2f\n", a / b }'
