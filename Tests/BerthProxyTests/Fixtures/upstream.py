"""Test upstream for berth's proxy tests. Prints its port, then serves:

  /echo...            JSON: method, path, headers, body length and sha256, conn (peer port)
  /bytes?n=N[&mode=chunked|close]   N deterministic bytes (Content-Length, chunked or until close)
                                    [&cut=K: only the first K of them, then the connection closes]
  /sha?n=N            sha256 of what /bytes?n=N sends
  /status?code=C      an empty response with status C (HEAD-aware)
  /slow?delay=S       waits S seconds, then answers
  /trickle?n=N&secs=S N bytes spread over S seconds (chunked)
  /garbage            a non-HTTP answer, then close
  /close-mid          promises 1000 bytes, sends 10, closes
  /close-now          closes without answering
  /early-hints        a 103 and then a 200 "hello", both in one write
  /bad-chunked        a chunked body with an invalid chunk size
  /trailers           a chunked body "hello" with trailers X-Checksum and (never forwarded) Content-Length
  /stale              answers the first request of a connection, drops the second
  /ws                 WebSocket echo (RFC 6455, text/binary frames, close)
"""
import base64
import hashlib
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BLOCK = bytes((i * 7 + 3) % 251 for i in range(65536))


def pattern(n):
    while n > 0:
        k = min(n, len(BLOCK))
        yield BLOCK[:k]
        n -= k


def pattern_sha(n):
    h = hashlib.sha256()
    for b in pattern(n):
        h.update(b)
    return h.hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the second
    # waits for the proxy's delayed ACK (40 ms per response).
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def read_body(self):
        self.trailers = []
        h = hashlib.sha256()
        total = 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:
                        t = self.rfile.readline()
                        if t in (b"\r\n", b"\n", b""):
                            break
                        self.trailers.append(t.decode().strip())
                    break
                left = size
                while left:
                    data = self.rfile.read(min(left, 1 << 20))
                    h.update(data)
                    left -= len(data)
                    total += len(data)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0") or 0)
            while left:
                data = self.rfile.read(min(left, 1 << 20))
                if not data:
                    break
                h.update(data)
                left -= len(data)
                total += len(data)
        return total, h.hexdigest()

    def query(self):
        return {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def send_body(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        path = urlsplit(self.path).path
        q = self.query()
        self.count = getattr(self, "count", 0) + 1
        if path == "/stale":
            # A keep-alive connection the server dropped: its second request is never answered.
            if self.count >= 2:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.read_body()
            self.send_body(200, json.dumps({"conn": self.client_address[1]}).encode())
            return
        if path.startswith("/echo") or path == "/" or path.startswith("/x"):
            length, sha = self.read_body()
            body = json.dumps({
                "method": self.command,
                "path": self.path,
                "version": self.request_version,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_length": length,
                "body_sha256": sha,
                "trailers": self.trailers,
                "conn": self.client_address[1],
                "server_port": self.server.server_address[1],
            }).encode()
            self.send_body(200, body)
        elif path == "/bytes":
            n = int(q.get("n", "0"))
            mode = q.get("mode", "length")
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if mode == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
            elif mode == "close":
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(n))
            self.end_headers()
            if self.command == "HEAD":
                return
            cut = int(q.get("cut", "-1"))
            sent = 0
            for b in pattern(n):
                if cut >= 0 and sent + len(b) > cut:
                    self.wfile.write(b[:cut - sent])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                sent += len(b)
                if mode == "chunked":
                    self.wfile.write(b"%x\r\n" % len(b) + b + b"\r\n")
                else:
                    self.wfile.write(b)
            if mode == "chunked":
                self.wfile.write(b"0\r\n\r\n")
        elif path == "/sha":
            self.send_body(200, pattern_sha(int(q.get("n", "0"))).encode(), "text/plain")
        elif path == "/status":
            code = int(q.get("code", "200"))
            self.send_response(code)
            if code not in (204, 304) and code >= 200:
                self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/slow":
            time.sleep(float(q.get("delay", "1")))
            self.send_body(200, b"slow\n", "text/plain")
        elif path == "/trickle":
            n = int(q.get("n", "0"))
            secs = float(q.get("secs", "1"))
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            pieces = 30
            step = n // pieces
            sent = 0
            for i in range(pieces):
                k = step if i < pieces - 1 else n - sent
                data = bytes((sent + j) % 256 for j in range(k)) if k < 4096 else (bytes(range(256)) * (k // 256 + 1))[:k]
                self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
                self.wfile.flush()
                sent += k
                time.sleep(secs / pieces)
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/garbage":
            self.wfile.write(b"this is not HTTP at all\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/close-mid":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/early-hints":
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nhello")
            self.wfile.flush()
        elif path == "/close-now":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif path == "/bad-chunked":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0x5\r\nhello\r\n0\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
        elif path == "/trailers":
            self.read_body()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
                             b"5\r\nhello\r\n0\r\nX-Checksum: abc123\r\nContent-Length: 99\r\n\r\n")
            self.wfile.flush()
        elif path == "/ws":
            self.websocket()
        else:
            self.send_body(404, b"no such fixture\n", "text/plain")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        r = self.rfile
        while True:
            hdr = r.read(2)
            if len(hdr) < 2:
                break
            opcode = hdr[0] & 0x0F
            masked = hdr[1] & 0x80
            n = hdr[1] & 0x7F
            if n == 126:
                n = int.from_bytes(r.read(2), "big")
            elif n == 127:
                n = int.from_bytes(r.read(8), "big")
            mask = r.read(4) if masked else b"\0\0\0\0"
            data = bytearray(r.read(n))
            for i in range(len(data)):
                data[i] ^= mask[i % 4]
            if opcode == 8:
                self.wfile.write(b"\x88\x00")
                self.wfile.flush()
                break
            out = bytes([0x80 | opcode])
            if len(data) < 126:
                out += bytes([len(data)])
            elif len(data) < 65536:
                out += bytes([126]) + len(data).to_bytes(2, "big")
            else:
                out += bytes([127]) + len(data).to_bytes(8, "big")
            self.wfile.write(out + bytes(data))
            self.wfile.flush()
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


if __name__ == "__main__":
    srv = Server(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
    print(srv.server_address[1], flush=True)
    # Exit when the parent (the test process) goes away.
    threading.Thread(target=lambda: (sys.stdin.read(), srv.shutdown()), daemon=True).start()
    srv.serve_forever()
