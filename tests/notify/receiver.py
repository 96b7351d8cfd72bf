#!/usr/bin/env python3
"""receiver.py - a local webhook receiver for the notification tests (standard library only).

    receiver.py --dir DIR [--script FILE]

Listens on 127.0.0.1 at an ephemeral port, written to DIR/port once it listens. Answers every
POST by the script: FILE is JSON {"/name": ["429:1.5", "500", "hang:3", "200", ...], ...}; each
request whose path starts with /name/ (or is /name) takes the next answer of its list (then 200
for ever). Answers:
    "200" (or any status)    that status, a small JSON body
    "429:S"                  429 with Discord's body {"message", "retry_after": S, "global": false}
                             and a Retry-After header (S rounded up)
    "hang:S"                 no answer for S seconds (the client times out), then 200
The script may be replaced while the receiver runs (it is read again at every request).

Every request is recorded when it arrives, before it is answered, one line appended to DIR/log:
    seq  time  path  answer  idempotency-key  user-agent  content-type  body-bytes
(tab-separated; time in seconds of time.time()), its headers to DIR/headers-<seq> and its body
to DIR/body-<seq>. The tests count deliveries by idempotency key.
"""
import argparse
import json
import math
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATE = {"seq": 0, "used": {}}


def next_answer(args, path):
    script = {}
    if args.script and os.path.exists(args.script):
        with open(args.script, encoding="utf-8") as f:
            script = json.load(f)
    key = "/" + path.split("?")[0].split("/")[1]
    answers = script.get(key, [])
    k = STATE["used"].get(key, 0)
    STATE["used"][key] = k + 1
    return answers[k] if k < len(answers) else "200"


def make_handler(args):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):  # quiet
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else b""
            path = self.path.split("?")[0]
            with LOCK:
                STATE["seq"] += 1
                seq = STATE["seq"]
                answer = next_answer(args, path)
                with open(os.path.join(args.dir, "headers-%d" % seq), "w", encoding="utf-8") as f:
                    f.write("POST %s\n" % self.path)
                    for k, v in self.headers.items():
                        f.write("%s: %s\n" % (k, v))
                with open(os.path.join(args.dir, "body-%d" % seq), "wb") as f:
                    f.write(body)
                ctype = (self.headers.get("Content-Type") or "").split(";")[0]
                line = "\t".join([str(seq), "%.3f" % time.time(), path, answer,
                                  self.headers.get("Idempotency-Key") or "",
                                  self.headers.get("User-Agent") or "", ctype, str(len(body))])
                with open(os.path.join(args.dir, "log"), "a", encoding="utf-8") as f:
                    f.write(line + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            status, extra, payload = 200, {}, b'{"ok": true}'
            if answer.startswith("hang:"):
                time.sleep(float(answer[5:]))
            elif answer.startswith("429"):
                ra = float(answer[4:]) if ":" in answer else 1.0
                status = 429
                extra["Retry-After"] = str(int(math.ceil(ra)))
                payload = json.dumps({"message": "You are being rate limited.",
                                      "retry_after": ra, "global": False}).encode()
            else:
                status = int(answer)
                if status >= 300:
                    payload = json.dumps({"message": "error %d" % status}).encode()
            try:
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def exit_with_parent():
    """A test that dies (an assertion in a forked case) leaves no receiver behind."""
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--script")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args))
    srv.daemon_threads = True
    tmp = os.path.join(args.dir, "port.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, os.path.join(args.dir, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
