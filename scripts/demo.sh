#!/usr/bin/env bash
# Sets up, builds and runs `berth serve` on the repo's proxy.conf, with the Python
# demo app running on the host as a plain upstream on 127.0.0.1:9000 behind /hello.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release
python3 apps/python/app.py 127.0.0.1 9000 &
hello=$!
trap 'kill $hello 2>/dev/null || true' EXIT
exec_status=0
.build/release/berth serve --config proxy.conf || exec_status=$?
exit $exec_status
