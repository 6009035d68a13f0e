#!/usr/bin/env python3
"""A stand-in for the national public service portal (DVCQG) receiving dossier records,
run beside motcua by the tests: a separate process speaking HTTP, with faults at random.

It takes what motcua's DvcqgSink sends (docs/integration.md): `POST /` (any path),
`Authorization: Bearer TOKEN`, `Idempotency-Key: MaHoSo:event_seq` (`sha256:…` for a dossier
without a code yet, `online-N`), the record as JSON. Each
request, after the token is checked, meets one fate drawn with --seed:

  accept   (the rest)      record it, 200 {"status": "received"}
  --reject P               503, nothing recorded
  --refuse P               422, nothing recorded (a record the portal will never take)
  --delay P                record it, then answer only after --delay-seconds (past the
                           client's timeout: the answer is lost, the record is in)
  --drop P                 close the connection without an answer, after recording the
                           record or not (half of the time each)

A record whose Idempotency-Key was recorded before is answered 409 {"status": "duplicate"}
and not recorded again. Per dossier (MaHoSo) the event_seq of recorded records must rise: a
record older than one already recorded is an error of the sender, logged as such.

LOGFILE gets one JSON line per event: {"kind": "accepted", "key", "code", "seq", "record"}
once per key, {"kind": "duplicate", "key"}, {"kind": "fault", "fault"} and
{"kind": "error", "error", ...}. `POST /control` with the token and a JSON object of new
probabilities ({"reject": 0, "delay": 0.1, ...}) changes them while it runs.

    dvcqg_portal.py PORT LOGFILE [--token T] [--seed N] [--reject P] [--refuse P]
                    [--delay P] [--delay-seconds S] [--drop P]

PORT 0 picks a free port; "ready PORT" is printed on stdout once it listens.
"""
import argparse
import json
import random
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = argparse.ArgumentParser()
args.add_argument("port", type=int)
args.add_argument("logfile")
args.add_argument("--token", default="")
args.add_argument("--seed", type=int, default=1)
args.add_argument("--reject", type=float, default=0.0)
args.add_argument("--refuse", type=float, default=0.0)
args.add_argument("--delay", type=float, default=0.0)
args.add_argument("--delay-seconds", type=float, default=2.0)
args.add_argument("--drop", type=float, default=0.0)
opts = args.parse_args()

FAULTS = ("reject", "refuse", "delay", "drop")
lock = threading.Lock()
state = {
    "rng": random.Random(opts.seed),
    "odds": {f: getattr(opts, f) for f in FAULTS},
    "keys": set(),
    "last_seq": {},
}


def log(entry):
    with open(opts.logfile, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def fate():
    with lock:
        draw = state["rng"].random()
        coin = state["rng"].random() < 0.5
        for f in FAULTS:
            p = state["odds"][f]
            if draw < p:
                return f, coin
            draw -= p
    return "accept", coin


def record(key, msg):
    """Records a record once per key; False if the key was seen (a repeat)."""
    with lock:
        if key in state["keys"]:
            log({"kind": "duplicate", "key": key})
            return False
        state["keys"].add(key)
        code, seq = msg["MaHoSo"], msg["event_seq"]
        last = state["last_seq"].get(code)
        if last is not None and seq <= last:
            log({"kind": "error", "error": "out of order", "code": code, "seq": seq, "after": last})
        state["last_seq"][code] = max(seq, last if last is not None else seq)
        log({"kind": "accepted", "key": key, "code": code, "seq": seq, "record": msg})
        return True


class Portal(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        # An abrupt close (RST), as a proxy or a crashed portal does.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.headers.get("Authorization") != "Bearer " + opts.token:
            return self.answer(401, {"error": "bad token"})
        if self.path == "/control":
            with lock:
                for k, v in json.loads(raw).items():
                    if k not in FAULTS:
                        return self.answer(400, {"error": "unknown fault " + k})
                    state["odds"][k] = float(v)
            return self.answer(200, {"odds": state["odds"]})
        try:
            msg = json.loads(raw)
            ok = isinstance(msg.get("MaHoSo"), str) and isinstance(msg.get("event_seq"), int)
        except (ValueError, AttributeError):
            ok = False
        key = self.headers.get("Idempotency-Key") or ""
        coded = not msg["MaHoSo"].startswith("online-") if ok else False
        expected = "%s:%s" % (msg["MaHoSo"], msg["event_seq"]) if coded else None
        if not ok or (key != expected if coded else not key.startswith("sha256:")):
            log({"kind": "error", "error": "malformed record or key", "key": key})
            return self.answer(400, {"error": "MaHoSo, event_seq and a matching Idempotency-Key are required"})
        f, coin = fate()
        if f != "accept":
            log({"kind": "fault", "fault": f, "key": key})
        if f == "reject":
            return self.answer(503, {"error": "busy, try again"})
        if f == "refuse":
            return self.answer(422, {"error": "record refused"})
        if f == "drop":
            if coin:
                record(key, msg)
            return self.drop()
        new = record(key, msg)
        if f == "delay":
            time.sleep(opts.delay_seconds)
        try:
            if new:
                self.answer(200, {"status": "received", "key": key})
            else:
                self.answer(409, {"status": "duplicate", "key": key})
        except OSError:
            pass  # the client gave up waiting


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up and closed its connection (timeouts): expected here.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


server = Server(("127.0.0.1", opts.port), Portal)
print("ready", server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
