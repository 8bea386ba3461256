#!/usr/bin/env bash
# Reloads under load, berth vs HAProxy: the same keep-alive wrk load against each
# proxy while its config is reloaded 50 times, alternating two configs that route
# /a to two different backends. Counts wrk's socket errors and non-2xx answers.
#
#   scripts/bench-reload.sh [--berth PATH] [--mode reload|upgrade|adopt] [--close]
#                           [--reloads N] [--seconds S] [--conns C]
#
# reload:  berth reloads with SIGHUP; HAProxy with `haproxy -sf OLDPID` (a new
#          process takes over, the old finishes). Prints berth's SIGHUP→serving times.
# upgrade: 20 `berth upgrade`s (a new serve process takes the listening sockets over
#          SCM_RIGHTS) vs 20 HAProxy seamless reloads (`expose-fd listeners` + `-x`);
#          prints berth's upgrade→new serve accepting times.
# adopt:   a container app (busybox httpd), its serve SIGKILLed and started again
#          (warm): the time until the app is routed again, and that it was adopted.
# --close sends `Connection: close` (a new connection per request) instead of keep-alive.
set -euo pipefail
BERTH=.build/release/berth RELOADS= SECS=12 CONNS=32 MODE=reload CLOSE=
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --mode) MODE=$2; shift 2 ;;
    --close) CLOSE=1; shift ;;
    --reloads) RELOADS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n $RELOADS ]] || RELOADS=$([[ $MODE == upgrade ]] && echo 20 || echo 50)
BERTH=$(realpath "$BERTH")
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
W=$(mktemp -d /tmp/bench-reload.XXXXXX)
pids=()
cleanup() {
  [[ -f $W/berth.pid ]] && kill "$(cat "$W/berth.pid")" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pkill -f "$W/hap" 2>/dev/null || true
  # wait for serve to stop its containers (adopt mode) before removing its state
  for _ in $(seq 1 100); do pgrep -f "[b]erth shim $W/" >/dev/null || break; sleep 0.1; done
  rm -rf --one-file-system "$W"
}
trap cleanup EXIT
B1=18180 B2=18181 BRT=18183 HAP=18184

if [[ $MODE == adopt ]]; then
  # A busybox image, a container app, then SIGKILL + serve, 5 times.
  mkdir -p "$W/rootfs/bin" "$W/web"
  cp "$(command -v busybox)" "$W/rootfs/bin/busybox"
  tar -C "$W/rootfs" -cf "$W/busybox.tar" .
  "$BERTH" image import "$W/busybox.tar" busybox --state-dir "$W" >/dev/null
  echo adopted >"$W/web/index.html"
  printf 'FROM busybox\nCOPY index.html /www/index.html\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8000", "-h", "/www"]\n' >"$W/web/Dockerfile"
  printf 'listen 127.0.0.1:%s\nworkers 1\napp web {\n  path /\n  build %s\n  port 8000\n}\n' $BRT "$W/web" >"$W/berth.conf"
  start_serve() {
    local t0=$(date +%s.%N)
    "$BERTH" serve --config "$W/berth.conf" --state-dir "$W" >"$W/berth.out" 2>>"$W/berth.log" &
    echo $! >"$W/serve.pid"
    until grep -q '^\[serve\] apps started' "$W/berth.out" 2>/dev/null; do sleep 0.005; done
    curl -fsS "http://127.0.0.1:$BRT/" >/dev/null
    awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
  }
  first=$(start_serve)
  id0=$("$BERTH" ps --state-dir "$W" | awk 'NR==2 {print $3}')
  times=()
  for i in 1 2 3 4 5; do
    spid=$(cat "$W/serve.pid"); kill -KILL "$spid"
    while kill -0 "$spid" 2>/dev/null; do sleep 0.01; done
    times+=("$(start_serve)")
    grep -q 'web  adopted 1/1' "$W/berth.out" || { echo "run $i: not adopted"; cat "$W/berth.out"; exit 1; }
  done
  id1=$("$BERTH" ps --state-dir "$W" | awk 'NR==2 {print $3}')
  printf 'berth first start (warm image cache): %ss; SIGKILL + serve → routed again: %s s (5 runs); container %s → %s\n' \
    "$first" "${times[*]}" "$id0" "$id1"
  "$BERTH" stop --state-dir "$W" >/dev/null
  exit 0
fi

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
  stats socket $W/hap.sock mode 600 level admin expose-fd listeners
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
  wrk -t2 -c"$CONNS" -d"${SECS}s" ${CLOSE:+-H 'Connection: close'} "http://127.0.0.1:$port/a/" >"$W/$name.wrk" 2>&1 &
  local wrkpid=$!
  sleep 0.5
  for i in $(seq 1 "$RELOADS"); do
    local n=$(( i % 2 + 1 ))
    if [[ $name == berth && $MODE == upgrade ]]; then
      "$BERTH" upgrade --state-dir "$W" >>"$W/upgrades.out"
    elif [[ $name == berth ]]; then
      cp "$W/berth$n.conf" "$W/berth.conf"; kill -HUP "$bpid"
    elif [[ $MODE == upgrade ]]; then
      "$HAPROXY" -f "$W/hap1.cfg" -p "$W/hap.pid" -D -x "$W/hap.sock" -sf "$(cat "$W/hap.pid")"
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
  local what=$([[ $MODE == upgrade ]] && { [[ $name == berth ]] && echo "berth upgrades" || echo "seamless reloads"; } || echo reloads)
  printf '%-8s %8s requests (%s), %s %s, socket errors: %s, non-2xx: %s\n' "$name" "$req" "$([[ -n $CLOSE ]] && echo close || echo keep-alive)" \
    "$RELOADS" "$what" "${errs:-none}" "${non2xx:-0}"
}
run berth $BRT
run haproxy $HAP
if [[ $MODE == upgrade ]]; then
  grep -o 'accepting after [0-9.]*' "$W/upgrades.out" | awk '{print $3}' | sort -g |
    awk '{a[NR]=$1} END {printf "berth upgrade→new serve accepting: median %.3f s, max %.3f s over %d upgrades\n", a[int((NR+1)/2)], a[NR], NR}'
  exit 0
fi
grep -o 'took_ms=[0-9.]*' "$W/berth.log" | cut -d= -f2 | sort -g |
  awk '{a[NR]=$1} END {printf "berth SIGHUP→new table serving: median %.3f ms, max %.3f ms over %d applied reloads\n", a[int((NR+1)/2)], a[NR], NR}'
