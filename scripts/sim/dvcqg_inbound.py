#!/usr/bin/env python3
"""A stand-in for the national portal (Cổng DVCQG) handing its dossiers to motcua, run beside
motcua by the tests and by hand (docs/integration.md, "DVCQG, inbound dossiers").

It plays both halves of the portal's side:

* the file server the portal's documents are fetched from: GET /files/NAME serves a PDF
  whose bytes follow from NAME (GET /meta/NAME tells its size and SHA-256, and never fails).
  It fails on purpose: `?fail=MODE&times=K` in a file's address fails its first K requests
  with MODE; --fail-rate P fails any request with probability P, with a mode drawn from
  --failures. Modes: `5xx` (503), `slow` (answers after --slow-seconds, past motcua's fetch
  timeout), `drop` (sends half the file, then closes the connection), `wrong` (other bytes
  than the declared digest);
* the pusher (with --target): N dossiers (--count) POSTed as JSON with `Authorization:
  Bearer TOKEN`, each sent again until motcua acknowledges it (200/201), waiting what
  Retry-After says (at most --max-wait seconds) or a short backoff after any other answer
  or a lost connection. A share of the acknowledged dossiers (--repeat-rate) is pushed again
  on purpose, as an at-least-once sender does. Each acknowledgement is a JSON line in --log:
  {"portal_id", "reference", "code", "http", "repeat", "attempts"}.

    dvcqg_inbound.py --seed S [--target URL --token T --count N --log FILE] [options]

"ready PORT" is printed on stdout once the file server listens; with --target, "done N" once
every dossier is acknowledged (exit 0), or "gave up N/M" at --deadline (exit 1). Without
--target it serves files until killed. A 400, 401 or 404 from motcua is a setup error:
exit 2 at once.
"""
import argparse
import hashlib
import json
import queue
import random
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

args = argparse.ArgumentParser()
args.add_argument("--seed", type=int, required=True)
args.add_argument("--port", type=int, default=0)
args.add_argument("--target", help="motcua's POST /api/v1/dvcqg/dossiers address")
args.add_argument("--token", default="")
args.add_argument("--count", type=int, default=10)
args.add_argument("--log", help="where acknowledgements are written (JSON lines)")
args.add_argument("--prefix", default="G22.99")
args.add_argument("--procedure", default="1.001193")
args.add_argument("--agency", default="000.30.01.H56")
args.add_argument("--components", type=int, default=2)
args.add_argument("--fail-rate", type=float, default=0.0)
args.add_argument("--failures", default="5xx,slow,drop,wrong")
args.add_argument("--slow-seconds", type=float, default=5.0)
args.add_argument("--repeat-rate", type=float, default=0.0)
args.add_argument("--workers", type=int, default=3)
args.add_argument("--deadline", type=float, default=300.0)
args.add_argument("--max-wait", type=float, default=1.0)
opts = args.parse_args()

lock = threading.Lock()
rng = random.Random(opts.seed)
counts = {}


def content(name):
    """The bytes of a file: a small PDF that follows from its name alone."""
    r = random.Random(hashlib.sha256(name.encode()).digest())
    body = bytes(r.getrandbits(8) for _ in range(r.randint(2000, 6000)))
    return b"%PDF-1.4\n% " + name.encode() + b"\n" + body + b"\n%%EOF\n"


def meta(name):
    data = content(name)
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


class Files(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, data, ctype="application/pdf"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def failure(self):
        """The mode this request fails with, if any."""
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            n = counts[self.path]
            drawn = rng.random() < opts.fail_rate
            mode = rng.choice(opts.failures.split(",")) if drawn else None
        if "fail" in q and n <= int(q.get("times", ["1"])[0]):
            return q["fail"][0]
        return mode

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path.startswith("/meta/"):
            return self.send(200, json.dumps(meta(url.path[6:])).encode(), "application/json")
        if not url.path.startswith("/files/"):
            return self.send(404, b"not found", "text/plain")
        data = content(url.path[7:])
        mode = self.failure()
        if mode == "5xx":
            return self.send(503, b"busy", "text/plain")
        if mode == "slow":
            time.sleep(opts.slow_seconds)
            try:
                return self.send(200, data)
            except OSError:
                return
        if mode == "drop":
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if mode == "wrong":
            data = data[:-8] + bytes(b ^ 0xFF for b in data[-8:])
        return self.send(200, data)


server = ThreadingHTTPServer(("127.0.0.1", opts.port), Files)
server.daemon_threads = True
port = server.server_address[1]
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", port, flush=True)

if not opts.target:
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        sys.exit(0)


def dossier(i):
    portal_id = "%s-%d-%05d" % (opts.prefix, opts.seed, i)
    documents = []
    for c in range(opts.components):
        name = "%s-%d.pdf" % (portal_id, c)
        m = meta(name)
        documents.append({"component": c, "name": name, "size": m["size"], "sha256": m["sha256"],
                          "url": "http://127.0.0.1:%d/files/%s" % (port, name)})
    return {
        "portal_id": portal_id,
        "procedure": opts.procedure,
        "agency": opts.agency,
        "applicant": {"kind": "person", "name": "Công dân %05d" % i, "id_number": "0010990%05d" % i,
                      "phone": "09%08d" % (i % 10**8), "address": "Phường Yên Thịnh"},
        "request": "Nộp trên Cổng Dịch vụ công quốc gia",
        "documents": documents,
    }


def push(body):
    """One push: (HTTP status or None for a lost connection, answer, Retry-After)."""
    req = urllib.request.Request(opts.target, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": "Bearer " + opts.token})
    try:
        with urllib.request.urlopen(req, timeout=120) as res:
            return res.status, json.loads(res.read() or b"null"), None
    except urllib.error.HTTPError as e:
        try:
            answer = json.loads(e.read() or b"null")
        except ValueError:
            answer = None
        return e.code, answer, e.headers.get("Retry-After")
    except (OSError, ValueError) as e:
        return None, str(e), None


log = open(opts.log, "a", encoding="utf-8") if opts.log else None
acknowledged = set()
jobs = queue.Queue()
for i in range(opts.count):
    jobs.put(i)
stop = time.monotonic() + opts.deadline
fatal = []


def deliver(i, repeat):
    body = dossier(i)
    attempts = 0
    while time.monotonic() < stop and not fatal:
        attempts += 1
        status, answer, retry_after = push(body)
        if status in (200, 201):
            line = {"portal_id": body["portal_id"], "reference": answer["reference"], "code": answer.get("code"),
                    "http": status, "repeat": repeat, "attempts": attempts}
            with lock:
                acknowledged.add(body["portal_id"])
                if log:
                    log.write(json.dumps(line) + "\n")
                    log.flush()
            return True
        if status in (400, 401, 404):
            fatal.append("motcua answered %s: %s" % (status, answer))
            return False
        wait = min(opts.max_wait, 0.1 * attempts)
        if retry_after:
            try:
                wait = min(opts.max_wait, float(retry_after))
            except ValueError:
                pass
        time.sleep(wait)
    return False


def worker():
    while True:
        try:
            i = jobs.get_nowait()
        except queue.Empty:
            return
        if deliver(i, False):
            with lock:
                again = rng.random() < opts.repeat_rate
            if again:
                deliver(i, True)


threads = [threading.Thread(target=worker) for _ in range(max(1, opts.workers))]
for t in threads:
    t.start()
for t in threads:
    t.join()
if fatal:
    print(fatal[0], file=sys.stderr, flush=True)
    sys.exit(2)
if len(acknowledged) == opts.count:
    print("done", len(acknowledged), flush=True)
    sys.exit(0)
print("gave up %d/%d" % (len(acknowledged), opts.count), flush=True)
sys.exit(1)
