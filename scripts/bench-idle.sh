#!/usr/bin/env bash
# Memory per idle keep-alive connection, berth beside HAProxy: N clients each
# make one request through the proxy (one thread each, same nginx backend),
# then stay open and idle. Prints each proxy's RSS before, with the N idle
# connections (and per 10k), and a few seconds after they all closed. HAProxy
# needs two descriptors per connection under the 20000 hard limit: N <= 9900.
#
# --slow-read: instead, N clients (default 3000) each ask for a 1 MiB body and
# read 16 KiB of it, then nothing (a slow-read attack holding the proxy's
# buffers full), three times over: RSS with them holding, and after they close;
# beside it, the memory the kernel holds for all TCP sockets then (sockstat),
# where what a proxy has written and its client has not read waits.
#
#   bash scripts/bench-idle.sh [--berth PATH] [--conns N] [--after S] [--slow-read]
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH=.build/release/berth N= AFTER=3 SLOW=
while [[ $# -gt 0 ]]; do
  case $1 in
    --slow-read) SLOW=1; shift ;;
    --berth) BERTH=$2; shift 2 ;;
    --conns) N=$2; shift 2 ;;
    --after) AFTER=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n $N ]] || N=$([[ -n $SLOW ]] && echo 3000 || echo 9900)
need=()
[[ -x /usr/sbin/nginx ]] || need+=(nginx-light)
command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || need+=(haproxy)
if ((${#need[@]})); then (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null; fi
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
ulimit -n "$(ulimit -Hn)"

W=$(mktemp -d /tmp/berth-idle.XXXXXX); chmod 755 "$W"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
BACK=18290 HAP=18291 BRT=18292
source scripts/bench-backend.sh
mkdir -p "$W/www" && head -c 1048576 /dev/urandom >"$W/www/big"
start_backend "$BACK"
cat >"$W/haproxy.cfg" <<CONF
global
    nbthread 1
    maxconn 9990
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 60s
    timeout http-keep-alive 120s
frontend f
    bind 127.0.0.1:$HAP
    default_backend b
backend b
    http-reuse always
    server s1 127.0.0.1:$BACK
CONF
"$HAPROXY" -f "$W/haproxy.cfg" -db >"$W/haproxy.log" 2>&1 & pids+=($!)
HPID=$!
cat >"$W/proxy.conf" <<CONF
listen 127.0.0.1:$BRT
workers 1
timeouts {
    idle 120s
}
limits {
    connections 30000
}
app hello {
    path /
    upstream 127.0.0.1:$BACK
}
CONF
"$BERTH" serve --config "$W/proxy.conf" --state-dir "$W/state" >"$W/berth.out" 2>"$W/berth.err" & pids+=($!)
BPID=$!

python3 - "$N" "$AFTER" "${SLOW:-0}" "berth:$BRT:$BPID" "haproxy:$HAP:$HPID" <<'PY'
import socket, sys, time
n, after, slow = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])
def tcp_mem_mib():
    """What the kernel holds for every TCP socket on the machine (sockstat's pages)."""
    for line in open("/proc/net/sockstat"):
        if line.startswith("TCP:"):
            f = line.split()
            return int(f[f.index("mem") + 1]) * 4096 / 2**20
def wait_up(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close(); return
        except OSError: time.sleep(0.05)
    sys.exit(f"nothing answers on {port}")
def one(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while not got.endswith(b"Hello world!\n"):
        chunk = s.recv(4096)
        if not chunk: raise OSError("closed")
        got += chunk
    return s
def slow_readers(port, n):
    """n clients each asking for /big and reading 16 KiB of it, all at once
    (one after another, a 4 KiB receive buffer's window makes each take ~0.5 s)."""
    import selectors
    sel, socks, got = selectors.DefaultSelector(), [], {}
    for _ in range(n):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        s.setblocking(False)
        socks.append(s); got[s] = 0
        sel.register(s, selectors.EVENT_READ)
    deadline = time.time() + 120
    while sel.get_map():
        if time.time() > deadline: sys.exit(f"{len(sel.get_map())} slow readers got less than 16 KiB in 120 s")
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            chunk = s.recv(4096)
            if not chunk: sys.exit("a slow reader was closed before 16 KiB")
            got[s] += len(chunk)
            if got[s] >= 16384: sel.unregister(s)
    return socks
for spec in sys.argv[4:]:
    name, port, pid = spec.split(":"); port, pid = int(port), int(pid)
    wait_up(port)
    for _ in range(50): one(port).close()   # warm: pools, first allocations
    time.sleep(0.5)
    base = rss_kib(pid)
    if slow:
        line = f"{name:8s} slow-read {n} x 1 MiB, 3 runs: RSS {base/1024:.1f} MiB before (kernel TCP {tcp_mem_mib():.0f})"
        for run in range(3):
            socks = slow_readers(port, n)
            time.sleep(1)
            held, kernel = rss_kib(pid), tcp_mem_mib()
            for s in socks: s.close()
            time.sleep(after)
            line += f"; run {run + 1}: {held/1024:.1f} holding (kernel TCP {kernel:.0f}), {rss_kib(pid)/1024:.1f} {after:g}s after"
        print(line + f" ({(rss_kib(pid)-base)/1024:+.1f} MiB from before)")
        continue
    socks = [one(port) for _ in range(n)]
    time.sleep(1)
    held = rss_kib(pid)
    for s in socks: s.close()
    time.sleep(after)
    back = rss_kib(pid)
    per10k = (held - base) / 1024 * 10000 / n
    print(f"{name:8s} idle {n} conns: RSS {base/1024:.1f} -> {held/1024:.1f} MiB ({per10k:.1f} MiB per 10k); "
          f"{after:g}s after they closed: {back/1024:.1f} MiB ({(back-base)/1024:+.1f} MiB from before)")
PY
