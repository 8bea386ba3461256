"""A registry front that wants bearer tokens, as Docker Hub does: without
`Authorization: Bearer <token>` it answers 401 with a WWW-Authenticate
challenge naming its /token endpoint, which hands out the token (counting
how many it gave). Everything else is forwarded to the real registry.
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
            ok = "scope=repository%3Atest%2Fbb%3Apull" in self.path and "service=berth-test" in self.path
            return self.reply(200 if ok else 400, json.dumps({"token": "good-token", "expires_in": 300}).encode())
        if self.path == "/issued":
            return self.reply(200, str(issued[0]).encode())
        if self.headers.get("Authorization") != "Bearer good-token":
            challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="berth-test",scope="repository:test/bb:pull"'
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [("WWW-Authenticate", challenge)])
        conn = http.client.HTTPConnection("127.0.0.1", upstream)
        conn.request("GET", self.path, headers={k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")})
        r = conn.getresponse()
        body = r.read()
        self.reply(r.status, body, [(k, v) for k, v in r.getheaders() if k.lower() in ("content-type", "docker-content-digest")])

server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
print(server.server_address[1], flush=True)
server.serve_forever()
