"""A registry front that wants bearer tokens, as Docker Hub does: without
`Authorization: Bearer <token>` it answers 401 with a WWW-Authenticate
challenge naming its /token endpoint, which hands out the token (counting
how many it gave). Everything else is forwarded to the real registry.
Pushes (POST, PUT, PATCH) want a token issued for a `pull,push` scope,
which the challenge on those methods names.
With USER:PASSWORD, /token wants those as basic credentials (a private repository).
Usage: token_proxy.py REGISTRY_PORT [USER:PASSWORD]; prints its own port."""
import base64, http.client, json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream = int(sys.argv[1])
wanted = "Basic " + base64.b64encode(sys.argv[2].encode()).decode() if len(sys.argv) > 2 else None
issued = [0]

class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        port = self.server.server_address[1]
        if self.path.startswith("/token"):
            if wanted and self.headers.get("Authorization") != wanted:
                return self.reply(401, b'{"details":"credentials needed"}')
            issued[0] += 1
            push = "%3Apull%2Cpush" in self.path
            ok = "scope=repository%3Atest%2F" in self.path and "service=berth-test" in self.path
            token = "push-token" if push else "good-token"
            return self.reply(200 if ok else 400, json.dumps({"token": token, "expires_in": 300}).encode())
        if self.path == "/issued":
            return self.reply(200, str(issued[0]).encode())
        self.forward()

    def forward(self):
        port = self.server.server_address[1]
        reading = self.command in ("GET", "HEAD")
        allowed = ("Bearer good-token", "Bearer push-token") if reading else ("Bearer push-token",)
        if self.headers.get("Authorization") not in allowed:
            parts = self.path.split("/")
            repo = "/".join(parts[2:4]) if len(parts) > 4 else "test/bb"
            scope = f"repository:{repo}:" + ("pull" if reading else "pull,push")
            challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="berth-test",scope="{scope}"'
            n = int(self.headers.get("Content-Length", "0") or 0)
            if n: self.rfile.read(n)
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", challenge)])
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else None
        conn = http.client.HTTPConnection("127.0.0.1", upstream)
        # The front's own Host, so the registry's upload Locations point back here.
        keep = ("accept", "range", "content-type", "content-range", "host")
        conn.request(self.command, self.path, body=body, headers={k: v for k, v in self.headers.items() if k.lower() in keep})
        r = conn.getresponse()
        data = r.read()
        passed = ("content-type", "docker-content-digest", "location", "range", "docker-upload-uuid")
        self.reply(r.status, b"" if self.command == "HEAD" else data, [(k, v) for k, v in r.getheaders() if k.lower() in passed])

    do_HEAD = do_POST = do_PUT = do_PATCH = forward

server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
print(server.server_address[1], flush=True)
server.serve_forever()
