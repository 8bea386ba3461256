"""Writes an OCI image layout: a busybox base layer, and a second layer that
deletes a file (.wh.) and replaces a directory (.wh..wh..opq); gzip layers.
Tags: `single` (one manifest) and `multi` (an index: linux/amd64 + linux/arm64).
Extra: `evil` (a layer with a ../ path) and `corrupt` (a layer of its own, for
the test to damage in the registry's storage; digests.json names it).
Usage: make_oci.py DIR BUSYBOX"""
import gzip, hashlib, io, json, os, sys, tarfile, time

out, busybox = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256", exist_ok=True)

def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{out}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)

def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            i = tarfile.TarInfo(name); i.mtime = 1700000000
            if kind == "dir": i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
            elif kind == "sym": i.type = tarfile.SYMTYPE; i.linkname = data; t.addfile(i)
            elif kind == "link": i.type = tarfile.LNKTYPE; i.linkname = data; t.addfile(i)
            else: i.size = len(data); i.mode = 0o755 if kind == "exe" else 0o644; t.addfile(i, io.BytesIO(data))
    raw = buf.getvalue()
    return raw, gzip.compress(raw, mtime=0)

bb = open(busybox, "rb").read()
base = [("bin", "dir", None), ("bin/busybox", "exe", bb), ("bin/sh", "sym", "busybox"), ("bin/cat", "sym", "busybox"),
        ("bin/ls", "sym", "busybox"), ("etc", "dir", None), ("etc/hello", "file", b"hello\n"),
        ("etc/hello-link", "link", "etc/hello"), ("data", "dir", None), ("data/a", "file", b"a\n"), ("data/b", "file", b"b\n")]
top = [("etc", "dir", None), ("etc/.wh.hello", "file", b""), ("data", "dir", None), ("data/.wh..wh..opq", "file", b""),
       ("data/c", "file", b"c\n")]

def image(layers, arch):
    descs, diffs = [], []
    for entries in layers:
        raw, gz = tar(entries)
        d, n = blob(gz)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": n})
        diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    config = {"architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
              "config": {"Env": ["PATH=/bin", "GREETING=from-registry"], "Cmd": ["/bin/sh"], "WorkingDir": "/"},
              "rootfs": {"type": "layers", "diff_ids": diffs}}
    cd, cn = blob(json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cn}, "layers": descs}
    md, mn = blob(json.dumps(manifest).encode())
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": mn,
            "platform": {"architecture": arch, "os": "linux"}}

single = image([base, top], "amd64")
arm = image([base[:2]], "arm64")
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [arm, single]}
xd, xn = blob(json.dumps(index).encode())
evil = image([[("../escape", "file", b"x\n")]], "amd64")
# A symlink to an absolute path, then a file "inside" it: must not land in the host's /tmp.
trick = image([[("tmp-link", "sym", "/tmp"), ("tmp-link/berth-symlink-escape", "file", b"escaped\n")]], "amd64")
corrupt = image([[("junk", "file", os.urandom(1000))]], "amd64")
corrupt_manifest = json.load(open(out + "/blobs/sha256/" + corrupt["digest"][7:]))
json.dump({"corrupt_layer": corrupt_manifest["layers"][0]["digest"]}, open(out + "/digests.json", "w"))
refs = [dict(single, annotations={"org.opencontainers.image.ref.name": "single"}),
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": xd, "size": xn,
         "annotations": {"org.opencontainers.image.ref.name": "multi"}},
        dict(evil, annotations={"org.opencontainers.image.ref.name": "evil"}),
        dict(corrupt, annotations={"org.opencontainers.image.ref.name": "corrupt"}),
        dict(trick, annotations={"org.opencontainers.image.ref.name": "trick"})]
json.dump({"schemaVersion": 2, "manifests": refs}, open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
print(single["digest"])
