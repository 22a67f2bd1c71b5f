"""A Portal webhook receiver using only Python's standard library.

WEBHOOK_SECRET=whsec_... PORT=8080 python3 receiver.py
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_SECONDS = 5 * 60
MAX_BODY_BYTES = 1024 * 1024
REMEMBERED_IDS = 100_000


class Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def decode_secret(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def verify(key: bytes, headers: dict[str, str], body: bytes) -> None:
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise Rejected(400, "missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise Rejected(400, "webhook-timestamp is not a number") from None
    # A tight window makes a captured delivery useless for replay soon after.
    if abs(time.time() - sent_at) > TOLERANCE_SECONDS:
        raise Rejected(401, "timestamp too far from now")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = hmac.new(key, signed, hashlib.sha256).digest()
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            candidate = base64.b64decode(value, validate=True)
        except ValueError:
            continue
        if hmac.compare_digest(candidate, expected):
            return
    raise Rejected(401, "no valid signature")


class Receiver:
    def __init__(self, key: bytes) -> None:
        self.key = key
        # Deliveries are at least once: the same webhook-id may arrive again and must not be processed twice.
        # Production code keeps these ids in its database for longer than the sender retries (3 days).
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.lock = threading.Lock()

    def handle(self, headers: dict[str, str], body: bytes) -> None:
        verify(self.key, headers, body)
        msg_id = headers["webhook-id"]
        with self.lock:
            if msg_id in self.seen:
                return
            try:
                event = json.loads(body)
            except ValueError:
                raise Rejected(400, "body is not JSON") from None
            process(event, msg_id)
            self.seen[msg_id] = None
            if len(self.seen) > REMEMBERED_IDS:
                self.seen.popitem(last=False)


def process(event: dict[str, object], msg_id: str) -> None:
    print(f"accepted {event.get('type')} {msg_id}", flush=True)


def make_handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY_BYTES:
                self.answer(413, "body too large")
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                receiver.handle(headers, body)
            except Rejected as rejected:
                self.answer(rejected.status, str(rejected))
                return
            self.send_response(204)
            self.end_headers()

        def answer(self, status: int, reason: str) -> None:
            payload = reason.encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            print(format % args, file=sys.stderr)

    return Handler


def main() -> None:
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        sys.exit("set WEBHOOK_SECRET to the subscription's secret (whsec_...)")
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(Receiver(decode_secret(secret))))
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
