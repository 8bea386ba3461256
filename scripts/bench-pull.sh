#!/usr/bin/env bash
# Pull time of a multi-layer image from a local registry: berth pull vs
# `skopeo copy` of the same image to a local dir, same run.
#
#   scripts/bench-pull.sh [--berth PATH] --from-state DIR --image NAME
#
# The image (e.g. berth/python:latest, built by the demo) is taken from a berth
# state dir, written as an OCI layout with one gzip layer per berth layer,
# pushed by skopeo to docker-registry on 127.0.0.1, then pulled back 3 times
# by each tool into empty destinations.
set -euo pipefail
BERTH=.build/release/berth FROM="" IMAGE=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --berth) BERTH=$2; shift 2 ;;
    --from-state) FROM=$2; shift 2 ;;
    --image) IMAGE=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
[[ -n $FROM && -n $IMAGE ]] || { echo "usage: $0 [--berth PATH] --from-state DIR --image NAME" >&2; exit 2; }
BERTH=$(realpath "$BERTH")
W=$(mktemp -d /tmp/bench-pull.XXXXXX)
reg=""
cleanup() { [[ -n $reg ]] && kill "$reg" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
PORT=15077
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/storage\nhttp:\n  addr: 127.0.0.1:%s\n' "$W" "$PORT" >"$W/reg.yml"
docker-registry serve "$W/reg.yml" >/dev/null 2>&1 & reg=$!
until curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null; do sleep 0.1; done

python3 - "$FROM" "$IMAGE" "$W/oci" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
state, name, out = sys.argv[1:4]
tags = json.load(open(f"{state}/tags.json"))
ref = name if ":" in name.split("/")[-1] else name + ":latest"
image = json.load(open(f"{state}/images/{tags[ref]}.json"))
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
layers, diffs = [], []
for digest in image["layers"]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        root = f"{state}/layers/{digest}"
        for entry in sorted(os.listdir(root)):
            t.add(os.path.join(root, entry), arcname=entry)
    raw = buf.getvalue()
    d, n = blob(gzip.compress(raw, compresslevel=6, mtime=0))
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
config = dict(image["config"]); config["rootfs"] = {"type": "layers", "diff_ids": diffs}
cd, cn = blob(json.dumps(config).encode())
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn}, "layers": layers}
md, mn = blob(json.dumps(m).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": m["mediaType"], "digest": md, "size": mn,
           "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}, open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
print(f"{len(layers)} layers, {sum(l['size'] for l in layers) / 1e6:.1f} MB compressed")
PY
skopeo copy --dest-tls-verify=false "oci:$W/oci:bench" "docker://127.0.0.1:$PORT/bench/image:1" >/dev/null
for i in 1 2 3; do
  rm -rf "$W/b" "$W/s"; mkdir -p "$W/b"
  t0=$(date +%s%N)
  "$BERTH" pull "127.0.0.1:$PORT/bench/image:1" --insecure-registry "127.0.0.1:$PORT" --state-dir "$W/b" >/dev/null
  t1=$(date +%s%N)
  skopeo copy --src-tls-verify=false "docker://127.0.0.1:$PORT/bench/image:1" "dir:$W/s" >/dev/null
  t2=$(date +%s%N)
  printf 'round %d: berth pull %.2fs (download, verify, unpack, store)   skopeo copy to dir %.2fs (download, verify)\n' \
    "$i" "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$(echo "($t2 - $t1) / 1000000000" | bc -l)"
done
