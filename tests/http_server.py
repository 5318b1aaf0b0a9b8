#!/usr/bin/env python3
"""The scripted HTTP server of tests/es-http-pub.bats.

http_server.py PORT LOG [STATUS...]

The Nth request is answered with the Nth STATUS, later ones with 200;
a STATUS is CODE, CODE:SECONDS (with Retry-After: SECONDS), *CODE (this
and every later request) or hang (no answer, ever). A 2xx answer has an
empty body; any other has the body "error CODE\\nsecond line\\n".

With HTTP_TLS_CERT and HTTP_TLS_KEY in the environment it speaks HTTPS;
with HTTP_TLS_CA too it asks for a client certificate (optional) and
logs its common name as X-Client-CN.

Each request appends "REQUEST N METHOD PATH STATUS" to LOG, and leaves
LOG.N.headers (Content-Type, Content-Encoding, Authorization and any X-
header, sorted, "Name: value" a line), LOG.N.body (gunzipped when the
request says Content-Encoding: gzip, which LOG.N.headers then shows) and
LOG.N.time (when it came, in seconds of the monotonic clock).
"""
import gzip
import http.server
import os
import ssl
import sys
import time

port, log = int(sys.argv[1]), sys.argv[2]
script = sys.argv[3:]
count = 0


def status_for(n):
    """The answer to the nth request (1-based): (code, retry-after)."""
    for i, s in enumerate(script):
        if s.startswith("*") and i < n:
            code = s[1:]
            break
        if i == n - 1:
            code = s
            break
    else:
        return 200, None
    if code == "hang":
        return code, None
    code, _, after = code.partition(":")
    return int(code), after or None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_request(self):
        global count
        count += 1
        n = count
        with open(f"{log}.{n}.time", "w") as f:
            f.write(f"{time.monotonic():.3f}\n")
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        keep = sorted(
            f"{k}: {v}" for k, v in self.headers.items()
            if k.lower() in ("content-type", "content-encoding", "authorization")
            or k.lower().startswith("x-"))
        cert = getattr(self.connection, "getpeercert", lambda: None)()
        if cert:
            cn = dict(x[0] for x in cert["subject"])["commonName"]
            keep.append(f"X-Client-CN: {cn}")
        with open(f"{log}.{n}.headers", "w") as f:
            f.write("".join(h + "\n" for h in keep))
        with open(f"{log}.{n}.body", "wb") as f:
            f.write(body)
        code, after = status_for(n)
        if code == "hang":
            time.sleep(3600)
        answer = b"" if 200 <= code < 300 else f"error {code}\nsecond line\n".encode()
        # logged before the answer: a client that got its answer and ended
        # finds the line there (a test that saw it has the files too)
        with open(log, "a") as f:
            f.write(f"REQUEST {n} {self.command} {self.path} {code}\n")
        self.send_response(code)
        if after:
            self.send_header("Retry-After", after)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        self.wfile.flush()

    do_POST = do_PUT = handle_request


http.server.HTTPServer.allow_reuse_address = True
server = http.server.HTTPServer(("127.0.0.1", port), Handler)
if os.environ.get("HTTP_TLS_CERT"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.environ["HTTP_TLS_CERT"], os.environ["HTTP_TLS_KEY"])
    if os.environ.get("HTTP_TLS_CA"):
        ctx.load_verify_locations(os.environ["HTTP_TLS_CA"])
        ctx.verify_mode = ssl.CERT_OPTIONAL
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
