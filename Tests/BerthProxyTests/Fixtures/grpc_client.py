"""Calls every method of grpc_server.py through TARGET (h2c, or TLS with a CA
file and the name to verify) and prints one line per call."""
import grpc, sys, queue, threading
target = sys.argv[1]
if len(sys.argv) > 2:
    creds = grpc.ssl_channel_credentials(open(sys.argv[2], "rb").read())
    ch = grpc.secure_channel(target, creds, options=[("grpc.ssl_target_name_override", sys.argv[3])])
else:
    ch = grpc.insecure_channel(target)
echo = ch.unary_unary("/t.T/Echo")
print("echo", echo(b"hello", timeout=10).decode())
print("echo-big", len(echo(b"x" * 3000000, timeout=20)))
try:
    ch.unary_unary("/t.T/Fail")(b"zz", timeout=10)
    print("fail no-error")
except grpc.RpcError as e:
    print("fail", e.code().name, e.details())
print("total", ch.stream_unary("/t.T/Total")(iter([b"a", b"b", b"c"]), timeout=10).decode())
print("count", ",".join(m.decode() for m in ch.unary_stream("/t.T/Count")(b"5", timeout=10)))
# Bidirectional, in lock step: each answer comes before the next message is sent.
q = queue.Queue()
def gen():
    for w in ["one", "two", "three"]:
        yield w.encode()
        got = q.get(timeout=10)
        if got != w.upper(): raise SystemExit("bidi out of step")
answers = ch.stream_stream("/t.T/Chat")(gen(), timeout=10)
out = []
for a in answers:
    out.append(a.decode()); q.put(a.decode())
print("chat", ",".join(out))
