"""The Python demo app: GET / answers with the line of Python that prints
hello world, as the classic Docker + HAProxy demo does.

Listens on 0.0.0.0:8000, or on the address and port given as arguments
(scripts/demo.sh runs it on the host as a plain upstream that way)."""
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        body = b"print('Hello world!')\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


host = sys.argv[1] if len(sys.argv) > 1 else "0.0.0.0"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8000
# As a container's PID 1 the kernel ignores SIGTERM unless it is handled.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
ThreadingHTTPServer((host, port), Hello).serve_forever()
