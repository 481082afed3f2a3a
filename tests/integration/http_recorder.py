#!/usr/bin/env python3
"""http_recorder.py: a real HTTP(S) server on 127.0.0.1 that records every request it gets and
can be told to misbehave, the judge of the delivery tests.

    http_recorder.py --dir DIR [--mode MODE] [--fail N] [--tls CERT KEY] [--drip S]
    http_recorder.py --free-port          print a port nobody listens on (connection refused)

The port it listens on is written to DIR/port once it accepts connections. Every request is
recorded as DIR/NNNN.json ({method, path, headers: [[name, value]...], body_len}) and
DIR/NNNN.body, and one line per event goes to DIR/events, in order: "connect",
"tls-error REASON", "request NNNN METHOD PATH", "response NNNN STATUS".

Modes:
  ok            200 to every request
  fail          500 to the first N requests (--fail N, default 1), then 200
  hang          read the request, then never answer (the connection stays open)
  drip          answer 200, one byte every S seconds (--drip, default 0.5)
  gce           the GCE metadata server's guest attributes: PUT/GET
                /computeMetadata/v1/instance/guest-attributes/NS/KEY need
                "Metadata-Flavor: Google" (403 without); other paths 404
  aws           AWS IMDSv2: PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds
                (1..21600, else 400) and gives a token; GET /latest/... needs
                X-aws-ec2-metadata-token with that token (401 without); POST anywhere else is
                recorded and answered 200 (the collector)
  blob          an object store behind presigned URLs, as Azure Blob answers: PUT PATH?...sig=...
                stores the body (201) when x-ms-blob-type is BlockBlob (400 without it, as Azure
                says "MissingRequiredHeader"); 403 without sig= in the query; GET gives the object
                back; other methods 405
"""
import argparse
import http.server
import json
import os
import secrets
import socket
import ssl
import sys
import threading
import time

IDENTITY = {
    "accountId": "123456789012",
    "architecture": "x86_64",
    "availabilityZone": "eu-west-1a",
    "imageId": "ami-0123456789abcdef0",
    "instanceId": "i-0fedcba9876543210",
    "instanceType": "t3.micro",
    "privateIp": "10.0.0.12",
    "region": "eu-west-1",
    "version": "2017-09-30",
}


class Recorder:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.n = 0
        self.tokens = set()
        self.attributes = {}

    def event(self, line):
        with self.lock:
            with open(os.path.join(self.dir, "events"), "a") as f:
                f.write(line + "\n")

    def record(self, method, path, headers, body):
        with self.lock:
            self.n += 1
            n = self.n
            base = os.path.join(self.dir, "%04d" % n)
            with open(base + ".body", "wb") as f:
                f.write(body)
            with open(base + ".json.tmp", "w") as f:
                json.dump({"n": n, "method": method, "path": path,
                           "headers": [[k, v] for k, v in headers.items()],
                           "body_len": len(body), "time": time.time()}, f)
            os.rename(base + ".json.tmp", base + ".json")
            with open(os.path.join(self.dir, "events"), "a") as f:
                f.write("request %04d %s %s\n" % (n, method, path))
        return n


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "http_recorder/1"

    def setup(self):
        rec = self.server.rec
        rec.event("connect")
        if self.server.tls:
            try:
                self.request = self.server.tls.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                rec.event("tls-error %s" % (getattr(e, "reason", None) or e))
                raise
        super().setup()

    def log_message(self, fmt, *args):
        pass

    def reply(self, n, status, body=b"", ctype="application/json"):
        self.server.rec.event("response %04d %d" % (n, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        srv = self.server
        n = srv.rec.record(self.command, self.path, self.headers, body)
        mode = srv.mode
        if mode == "hang":
            srv.rec.event("hang %04d" % n)
            while True:
                time.sleep(3600)
        if mode == "drip":
            data = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
            srv.rec.event("drip %04d" % n)
            try:
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(srv.drip)
            except OSError:
                srv.rec.event("drip-cut %04d" % n)
            self.close_connection = True
            return
        if mode == "fail":
            with srv.rec.lock:
                srv.failed += 1
                fail = srv.failed <= srv.fail
            if fail:
                return self.reply(n, 500, b'{"error":"injected"}')
            return self.reply(n, 200, b'{"ok":true}')
        if mode == "gce":
            return self.gce(n, body)
        if mode == "aws":
            return self.aws(n)
        if mode == "blob":
            return self.blob(n, body)
        return self.reply(n, 200, b'{"ok":true}')

    def gce(self, n, body):
        prefix = "/computeMetadata/v1/instance/guest-attributes/"
        if not self.path.startswith(prefix):
            return self.reply(n, 404, b"not found", "text/plain")
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(n, 403, b"Missing required header", "text/plain")
        key = self.path[len(prefix):]
        if self.command == "PUT":
            self.server.rec.attributes[key] = body
            return self.reply(n, 200, b"", "text/plain")
        if self.command == "GET" and key in self.server.rec.attributes:
            return self.reply(n, 200, self.server.rec.attributes[key], "text/plain")
        return self.reply(n, 404, b"not found", "text/plain")

    def blob(self, n, body):
        path, _, query = self.path.partition("?")
        if not any(q.startswith("sig=") for q in query.split("&")):
            return self.reply(n, 403, b"AuthenticationFailed", "text/plain")
        if self.command == "PUT":
            if self.headers.get("x-ms-blob-type") != "BlockBlob":
                return self.reply(n, 400, b"MissingRequiredHeader x-ms-blob-type", "text/plain")
            self.server.rec.attributes[path] = body
            return self.reply(n, 201, b"", "text/plain")
        if self.command == "GET" and path in self.server.rec.attributes:
            return self.reply(n, 200, self.server.rec.attributes[path], "application/json")
        return self.reply(n, 405 if self.command != "GET" else 404, b"", "text/plain")

    def aws(self, n):
        rec = self.server.rec
        if self.path == "/latest/api/token":
            if self.command != "PUT":
                return self.reply(n, 405, b"", "text/plain")
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
            if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return self.reply(n, 400, b"", "text/plain")
            token = secrets.token_urlsafe(32)
            with rec.lock:
                rec.tokens.add(token)
            with open(os.path.join(rec.dir, "token"), "w") as f:
                f.write(token)
            return self.reply(n, 200, token.encode(), "text/plain")
        if self.path.startswith("/latest/"):
            if self.command != "GET":
                return self.reply(n, 405, b"", "text/plain")
            if self.headers.get("X-aws-ec2-metadata-token") not in rec.tokens:
                return self.reply(n, 401, b"", "text/plain")
            if self.path == "/latest/dynamic/instance-identity/document":
                return self.reply(n, 200, json.dumps(IDENTITY, indent=2).encode(),
                                  "text/plain")
            return self.reply(n, 404, b"", "text/plain")
        if self.command == "POST":
            return self.reply(n, 200, b'{"ok":true}')
        return self.reply(n, 404, b"", "text/plain")

    do_GET = do_PUT = do_POST = do_DELETE = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer.server_bind asks the resolver for the host's name (getfqdn), which
        # can take seconds; the tests need none of it
        http.server.socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        pass


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir")
    ap.add_argument("--mode", default="ok",
                    choices=["ok", "fail", "hang", "drip", "gce", "aws", "blob"])
    ap.add_argument("--fail", type=int, default=1)
    ap.add_argument("--drip", type=float, default=0.5)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--free-port", action="store_true")
    a = ap.parse_args()
    if a.free_port:
        print(free_port())
        return 0
    if not a.dir:
        ap.error("--dir is needed")
    os.makedirs(a.dir, exist_ok=True)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.rec = Recorder(a.dir)
    srv.mode = a.mode
    srv.fail = a.fail
    srv.failed = 0
    srv.drip = a.drip
    srv.tls = None
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.tls = ctx
    port = srv.server_address[1]
    with open(os.path.join(a.dir, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(a.dir, "port.tmp"), os.path.join(a.dir, "port"))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
