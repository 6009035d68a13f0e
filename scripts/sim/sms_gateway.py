#!/usr/bin/env python3
"""A stand-in for an HTTP SMS gateway, run beside motcua by the tests and the demo.

It speaks the shape motcua's SmsSink sends (docs/integration.md): POST, `Authorization:
Bearer TOKEN`, JSON {"id", "to", "from", "text"}. It answers 401 for a wrong token, 400 for a
malformed message (or, with --ascii, one that is not plain ASCII), 503 for the first
--fail-first requests, and 200 after; each accepted message is recorded once per id (a
retried message is not sent twice) as a JSON line in LOGFILE.

    sms_gateway.py PORT LOGFILE [--token T] [--fail-first N] [--ascii]

PORT 0 picks a free port; "ready PORT" is printed on stdout once it listens.
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = argparse.ArgumentParser()
args.add_argument("port", type=int)
args.add_argument("logfile")
args.add_argument("--token", default="")
args.add_argument("--fail-first", type=int, default=0)
args.add_argument("--ascii", action="store_true")
opts = args.parse_args()

lock = threading.Lock()
state = {"requests": 0, "seen": set()}


class Gateway(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with lock:
            state["requests"] += 1
            n = state["requests"]
        if self.headers.get("Authorization") != "Bearer " + opts.token:
            return self.answer(401, {"error": "bad token"})
        if n <= opts.fail_first:
            return self.answer(503, {"error": "busy, try again"})
        try:
            msg = json.loads(raw)
            ok = all(isinstance(msg.get(k), str) and msg[k] for k in ("id", "to", "from", "text"))
        except ValueError:
            ok = False
        if not ok:
            return self.answer(400, {"error": "id, to, from and text are required"})
        if opts.ascii and not msg["text"].isascii():
            return self.answer(400, {"error": "this gateway takes ASCII only"})
        with lock:
            if msg["id"] not in state["seen"]:
                state["seen"].add(msg["id"])
                with open(opts.logfile, "a", encoding="utf-8") as f:
                    f.write(json.dumps(msg, ensure_ascii=False) + "\n")
        return self.answer(200, {"status": "queued", "id": msg["id"]})


server = ThreadingHTTPServer(("127.0.0.1", opts.port), Gateway)
print("ready", server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
