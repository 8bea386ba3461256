#!/usr/bin/env bash
# Installs the Debian packages berth builds and tests with (skipping what is there).
set -euo pipefail
pkgs=(libev-dev libssl-dev libcurl4-openssl-dev libarchive-dev curl python3 wrk haproxy nginx-light runc crun busybox-static mmdebstrap docker-registry skopeo pebble libnghttp2-dev nghttp2-client python3-h2 python3-grpcio)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The metrics test validates /metrics with the Prometheus project's own parser.
python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q prometheus_client
# The tunnel-drain test reads WebSocket close codes with the websockets client.
python3 -c "import websockets" 2>/dev/null || python3 -m pip install -q websockets
# The Kubernetes export is checked against the offline Kubernetes schemas.
python3 -c "import kubernetes_validate" 2>/dev/null || python3 -m pip install -q kubernetes-validate==1.37.0
export PATH=/opt/swift/usr/bin:$PATH
command -v swift >/dev/null || { echo "setup: swift not found (expected at /opt/swift)" >&2; exit 1; }
