"""A gRPC server for berth's h2c upstream tests (Debian's python3-grpcio, no
protobuf: messages are raw bytes). Prints its port, then serves t.T:
  Echo (unary), Fail (unary, INVALID_ARGUMENT), Total (client streaming),
  Count (server streaming), Chat (bidirectional, upper-cases each message).
It exits when its stdin closes.
"""
import grpc, os, sys, time
from concurrent import futures

def echo(req, ctx): return req
def fail(req, ctx): ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad input: " + req.decode())
def chat(it, ctx):
    for m in it: yield m.upper()
def total(it, ctx): return b"+".join(it)
def count(req, ctx):
    for i in range(int(req)): yield str(i).encode()

handlers = {
    "Echo": grpc.unary_unary_rpc_method_handler(echo),
    "Fail": grpc.unary_unary_rpc_method_handler(fail),
    "Chat": grpc.stream_stream_rpc_method_handler(chat),
    "Total": grpc.stream_unary_rpc_method_handler(total),
    "Count": grpc.unary_stream_rpc_method_handler(count),
}
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("t.T", handlers),))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
os.write(1, f"{port}\n".encode())
sys.stdin.read()
server.stop(0)
