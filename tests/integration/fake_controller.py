# SPDX-License-Identifier: Apache-2.0
"""A test double of the controller's agent endpoints (api/openapi.yaml,
/v1/agent/*), for tests/integration/test_agent.py until slio-controller runs:
register, heartbeat, the desired state with its long-poll by revision, and
the status reports, which tests wait on. The desired state is whatever the
test puts in it; the double keeps no other rules.
"""
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DESIRED_RE = re.compile(r"^/v1/agent/nodes/([^/]+)/desired$")
STATUS_RE = re.compile(r"^/v1/agent/nodes/([^/]+)/status$")


class FakeController:
    def __init__(self, port, token=None):
        self.port = port
        self.token = token
        self.url = f"http://127.0.0.1:{port}"
        self.cond = threading.Condition()
        self.revision = 1
        self.volumes = {}    # id -> DesiredVolume
        self.snapshots = {}  # id -> DesiredSnapshot
        self.registrations = []
        self.heartbeats = 0
        self.reports = []    # NodeStatusReport bodies, oldest first
        self.bad_requests = []
        self.server = None
        self.thread = None

    # --- life cycle ---------------------------------------------------------------
    def start(self):
        ctl = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                ctl._handle(self, "GET")

            def do_POST(self):
                ctl._handle(self, "POST")

        ThreadingHTTPServer.allow_reuse_address = True
        ThreadingHTTPServer.daemon_threads = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.cond:
            self.cond.notify_all()

    # --- what tests change ------------------------------------------------------------
    def put_volume(self, vid, size, pool="p1", hosts=(), qos=None, state="present",
                   source=None, thin=False, name=None):
        v = {"id": vid, "name": name or f"pvc-{vid[:8]}", "pool": pool, "size": size,
             "thin": thin, "state": state,
             "exports": [{"host_nqn": h, "node": "consumer"} for h in hosts]}
        if qos:
            v["qos"] = qos
        if source:
            v["source"] = source
        with self.cond:
            self.volumes[vid] = v
            self._bump()

    def put_snapshot(self, sid, volume, pool="p1", state="present"):
        with self.cond:
            self.snapshots[sid] = {"id": sid, "volume": volume, "pool": pool, "state": state}
            self._bump()

    def forget(self, vid):
        """Drop a record entirely (as if the controller never had it)."""
        with self.cond:
            self.volumes.pop(vid, None)
            self.snapshots.pop(vid, None)
            self._bump()

    def _bump(self):
        self.revision += 1
        self.cond.notify_all()

    # --- what tests wait for -----------------------------------------------------------
    def wait(self, pred, timeout=30, what="condition"):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = pred()
                if got:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    last = self.reports[-1] if self.reports else None
                    raise AssertionError(f"timed out waiting for {what}; last report: "
                                         f"{json.dumps(last)[:3000]}")
                self.cond.wait(left)

    def last_report(self):
        return self.reports[-1] if self.reports else None

    def status_of(self, oid, report=None):
        r = report or self.last_report()
        if not r:
            return None
        for s in r.get("volumes", []) + r.get("snapshots", []):
            if s["id"] == oid:
                return s
        return None

    def wait_states(self, want, timeout=30):
        """want: {id: state}; waits for one report at the current revision that shows them all."""
        def ok():
            r = self.last_report()
            if not r or r.get("revision") != self.revision:
                return None
            for oid, state in want.items():
                s = self.status_of(oid, r)
                if not s or s["state"] != state:
                    return None
            return r
        return self.wait(ok, timeout, f"states {want} at revision {self.revision}")

    def wait_next_report(self, timeout=30):
        n = len(self.reports)
        return self.wait(lambda: len(self.reports) > n and self.reports[-1], timeout,
                         "a new status report")

    # --- HTTP ------------------------------------------------------------------------------
    def _desired(self, node):
        return {"node": node, "revision": self.revision,
                "volumes": list(self.volumes.values()),
                "snapshots": list(self.snapshots.values())}

    def _reply(self, h, status, body=None):
        data = json.dumps(body).encode() if body is not None else b""
        try:
            h.send_response(status)
            if data:
                h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the agent went away (killed) while waiting on a long-poll

    def _error(self, h, status, code, msg):
        self._reply(h, status, {"error": {"code": code, "message": msg}})

    def _handle(self, h, method):
        if self.token and h.headers.get("Authorization") != f"Bearer {self.token}":
            return self._error(h, 401, "unauthenticated", "no or unknown token")
        u = urlparse(h.path)
        body = None
        if method == "POST":
            n = int(h.headers.get("Content-Length", "0"))
            try:
                body = json.loads(h.rfile.read(n) or b"null")
            except ValueError:
                return self._error(h, 400, "invalid_argument", "body is not JSON")
        if method == "POST" and u.path == "/v1/agent/register":
            return self._register(h, body)
        if method == "POST" and u.path == "/v1/agent/heartbeat":
            with self.cond:
                self.heartbeats += 1
                self.cond.notify_all()
            return self._reply(h, 200, {"revision": self.revision})
        m = DESIRED_RE.match(u.path)
        if method == "GET" and m:
            return self._get_desired(h, m.group(1), parse_qs(u.query))
        m = STATUS_RE.match(u.path)
        if method == "POST" and m:
            return self._status(h, body)
        return self._error(h, 404, "not_found", f"no route {method} {u.path}")

    def _register(self, h, body):
        missing = [k for k in ("node", "host_nqn", "export_address", "pools") if k not in body]
        if missing:
            self.bad_requests.append(body)
            return self._error(h, 400, "invalid_argument", f"missing {missing}")
        with self.cond:
            self.registrations.append(body)
            self.cond.notify_all()
        return self._reply(h, 200, {"node": body["node"], "heartbeat_interval_s": 1,
                                    "revision": self.revision})

    def _get_desired(self, h, node, q):
        rev = int(q["revision"][0]) if "revision" in q else None
        wait = float(q.get("wait", ["0s"])[0].rstrip("s") or 0)
        deadline = time.monotonic() + min(wait, 60)
        with self.cond:
            while rev is not None and self.revision <= rev and self.server:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            body = self._desired(node)
        return self._reply(h, 200, body)

    def _status(self, h, body):
        if not isinstance(body, dict) or "node" not in body:
            self.bad_requests.append(body)
            return self._error(h, 400, "invalid_argument", "missing node")
        with self.cond:
            self.reports.append(body)
            self.cond.notify_all()
        return self._reply(h, 204)
