#!/usr/bin/env python3
"""A stand-in for the national payment platform, run beside motcua by the tests and the demo.

It speaks the protocol motcua's payment gateway adapter uses (docs/integration.md, "National
payment platform"): a checkout request signed with HMAC-SHA256 over fixed fields, then a
signed notification POSTed server to server to the request's notify_url and the citizen's
browser sent back to its return_url with the same signed fields.

    payment_gateway.py PORT --merchant M --secret S [--mode MODE] [--log FILE]

GET /checkout?<signed request>  verifies the request (400 page if its checksum, merchant or
                                expiry is wrong) and shows the order with a "pay" link.
GET /pay?order_id=X[&mode=MODE] "pays": POSTs the notification, then redirects (302) the
                                browser to the return URL. Headers X-Notify-Status and
                                X-Notify-Answer say what motcua answered.
GET /replay?order_id=X          POSTs the last notification of X again, unchanged (a replay);
                                answers JSON {"status", "answer"}.
GET /notifications              every notification sent and motcua's answer, as JSON.

MODE (default from --mode, else ok): ok; fail (result 24: the payer cancelled); forged
(signed with a wrong secret); wrong-amount (1 000 đồng more, correctly signed); late (paid a
minute after the order expired, correctly signed); unknown (another order id, correctly
signed); replay (the notification sent twice); silent (no notification, only the redirect).

PORT 0 picks a free port; "ready PORT" is printed on stdout once it listens. Each
notification is also appended as a JSON line to FILE when --log is given.
"""
import argparse
import hashlib
import hmac
import html
import json
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REQUEST_FIELDS = ["version", "merchant", "order_id", "amount", "currency", "order_info",
                  "return_url", "notify_url", "created_at", "expires_at"]
CALLBACK_FIELDS = ["version", "merchant", "order_id", "amount", "result", "transaction_id", "paid_at"]
MODES = ["ok", "fail", "forged", "wrong-amount", "late", "unknown", "replay", "silent"]
LEGAL = timezone(timedelta(hours=7))
STAMP = "%Y%m%d%H%M%S"

args = argparse.ArgumentParser()
args.add_argument("port", type=int)
args.add_argument("--merchant", required=True)
args.add_argument("--secret", required=True)
args.add_argument("--mode", choices=MODES, default="ok")
args.add_argument("--log")
opts = args.parse_args()

lock = threading.Lock()
state = {"orders": {}, "sent": [], "last": {}, "counter": 0}


def checksum(secret, fields, names):
    data = "&".join(f"{k}={urllib.parse.quote(fields[k], safe='')}" for k in names)
    return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()


def now_stamp():
    return datetime.now(LEGAL).strftime(STAMP)


def notify(url, fields):
    """POSTs a notification; motcua's status and answer."""
    body = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return 0, str(e)


def record(order_id, mode, fields, status, answer):
    entry = {"order_id": order_id, "mode": mode, "fields": fields, "status": status, "answer": answer}
    with lock:
        state["sent"].append(entry)
        if opts.log:
            with open(opts.log, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")


class Gateway(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, status, body, content_type="text/html; charset=utf-8", headers=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def page(self, status, title, text):
        self.send(status, f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
                          f"<h1>{html.escape(title)}</h1>{text}")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        route = {"/checkout": self.checkout, "/pay": self.pay, "/replay": self.replay,
                 "/notifications": self.notifications}.get(url.path)
        if route is None:
            return self.page(404, "Không tìm thấy", "")
        return route(query)

    def checkout(self, q):
        missing = [k for k in REQUEST_FIELDS + ["checksum"] if k not in q]
        if missing:
            return self.page(400, "Yêu cầu không hợp lệ", f"<p>Thiếu trường: {html.escape(', '.join(missing))}</p>")
        if not hmac.compare_digest(checksum(opts.secret, q, REQUEST_FIELDS), q["checksum"].lower()):
            return self.page(400, "Sai chữ ký", "<p>Checksum không khớp.</p>")
        if q["merchant"] != opts.merchant:
            return self.page(400, "Sai mã đơn vị", "")
        if not q["amount"].isdigit() or q["version"] != "1" or q["currency"] != "VND":
            return self.page(400, "Yêu cầu không hợp lệ", "<p>amount, version hoặc currency sai.</p>")
        if now_stamp() > q["expires_at"]:
            return self.page(400, "Đơn hàng đã hết hạn", "")
        with lock:
            state["orders"][q["order_id"]] = q
        oid = urllib.parse.quote(q["order_id"])
        links = "".join(f'<li><a id="pay-{m}" href="/pay?order_id={oid}&amp;mode={m}">{m}</a></li>' for m in MODES)
        return self.page(200, "Cổng thanh toán (mô phỏng)",
                         f"<p>Đơn hàng <code id=order>{html.escape(q['order_id'])}</code>: "
                         f"<strong id=amount>{html.escape(q['amount'])}</strong> VND — {html.escape(q['order_info'])}</p>"
                         f'<p><a id="pay" href="/pay?order_id={oid}">Thanh toán</a></p><ul>{links}</ul>')

    def pay(self, q):
        with lock:
            order = state["orders"].get(q.get("order_id", ""))
            state["counter"] += 1
            n = state["counter"]
        if order is None:
            return self.page(404, "Không có đơn hàng này", "")
        mode = q.get("mode") or opts.mode
        if mode not in MODES:
            return self.page(400, "Chế độ không hợp lệ", "")
        fields = {
            "version": "1",
            "merchant": opts.merchant,
            "order_id": order["order_id"],
            "amount": order["amount"],
            "result": "00",
            "transaction_id": f"SIM{n:08d}",
            "paid_at": now_stamp(),
        }
        secret = opts.secret
        if mode == "fail":
            fields["result"] = "24"
        elif mode == "forged":
            secret = opts.secret + "-not-ours"
        elif mode == "wrong-amount":
            fields["amount"] = str(int(order["amount"]) + 1000)
        elif mode == "late":
            expires = datetime.strptime(order["expires_at"], STAMP)
            fields["paid_at"] = (expires + timedelta(minutes=1)).strftime(STAMP)
        elif mode == "unknown":
            fields["order_id"] = order["order_id"] + "X"
        fields["checksum"] = checksum(secret, fields, CALLBACK_FIELDS)
        statuses, answer = [], ""
        if mode != "silent":
            for _ in range(2 if mode == "replay" else 1):
                status, answer = notify(order["notify_url"], fields)
                statuses.append(str(status))
                record(fields["order_id"], mode, fields, status, answer)
            with lock:
                state["last"][fields["order_id"]] = (order["notify_url"], fields)
        back = order["return_url"] + ("&" if "?" in order["return_url"] else "?") + urllib.parse.urlencode(fields)
        return self.send(302, "", headers=[("Location", back), ("X-Notify-Status", ",".join(statuses)),
                                           ("X-Notify-Answer", answer.replace("\n", " "))])

    def replay(self, q):
        with lock:
            last = state["last"].get(q.get("order_id", ""))
        if last is None:
            return self.send(404, json.dumps({"error": "nothing sent for this order"}), "application/json")
        url, fields = last
        status, answer = notify(url, fields)
        record(fields["order_id"], "replay", fields, status, answer)
        return self.send(200, json.dumps({"status": status, "answer": answer}), "application/json")

    def notifications(self, _q):
        with lock:
            sent = list(state["sent"])
        return self.send(200, json.dumps(sent, ensure_ascii=False), "application/json")


server = ThreadingHTTPServer(("127.0.0.1", opts.port), Gateway)
print("ready", server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    sys.exit(0)
