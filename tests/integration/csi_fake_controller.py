# SPDX-License-Identifier: Apache-2.0
"""A small double of slio-controller's REST API (api/openapi.yaml): the
endpoints slio-csi uses, with the contract's idempotency, error codes and
pagination. Volumes are `creating` until their second GET (so slio-csi's wait
for `ready` is exercised); attachments are `pending` until their first GET.
It stands in until the real controller (branch `controller`) runs here; the
test suite takes either through SLIO_CSI_CONTROLLER_URL.

Run alone: python3 csi_fake_controller.py PORT [TOKEN]
"""
import base64
import json
import re
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

GiB = 1 << 30
VOLUME_FIELDS = {"name", "size", "thin", "fs_type", "position", "consumer_node", "node_selector",
                 "pool_selector", "spread", "source", "qos", "labels"}
# Fields whose difference makes the same name a conflict (409).
COMPARED = VOLUME_FIELDS - {"labels"}


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.seq = 0
        self.volumes = {}    # id -> dict (insertion order = creation order)
        self.snapshots = {}
        self.nodes = [
            {"name": "node-a", "status": "ready", "topology": {"rack": "r1", "zone": "z1"},
             "host_nqn": "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000000a",
             "export_address": {"traddr": "127.0.0.1", "trsvcid": "4420"}},
            {"name": "node-b", "status": "ready", "topology": {"rack": "r2", "zone": "z1"},
             "host_nqn": "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000000b",
             "export_address": {"traddr": "127.0.0.2", "trsvcid": "4420"}},
        ]
        self.pools = [
            {"node": "node-a", "name": "p0", "engine": "file", "thin": False, "status": "ready",
             "cordoned": False, "capacity": 100 * GiB, "free": 100 * GiB, "allocated": 0,
             "reserved": 0, "overprovision": 1.0},
            {"node": "node-b", "name": "p0", "engine": "file", "thin": True, "status": "ready",
             "cordoned": False, "capacity": 50 * GiB, "free": 50 * GiB, "allocated": 0,
             "reserved": 0, "overprovision": 2.0},
        ]
        self.calls = []  # (method, path) for the tests
        # Requests naming a held object (body "name", or an id in the path) wait
        # for `gate` before being served: the tests' way to keep a call in flight.
        self.held = set()
        self.gate = threading.Event()
        self.waiting = threading.Semaphore(0)  # released once per request that starts waiting

    # --- helpers -------------------------------------------------------------------------
    def page(self, items, query):
        try:
            limit = int(query.get("limit", ["100"])[0])
        except ValueError:
            raise ApiError(400, "invalid_argument", "field 'limit': not an integer")
        if not 1 <= limit <= 1000:
            raise ApiError(400, "invalid_argument", "field 'limit': out of range [1, 1000]")
        start = 0
        token = query.get("continue", [None])[0]
        if token is not None:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("seq:"))
            except Exception:
                raise ApiError(400, "invalid_argument", "continue: not a token of ours")
        # Stable order: creation sequence; the token names the next sequence.
        rest = [i for i in items if i["_seq"] >= start]
        out = {"items": [{k: v for k, v in i.items() if not k.startswith("_")} for i in rest[:limit]]}
        if len(rest) > limit:
            out["continue"] = base64.urlsafe_b64encode(f"seq:{rest[limit]['_seq']}".encode()).decode()
        return out

    def pick_pool(self, body):
        size = body["size"]
        want = body.get("consumer_node")
        pos = body.get("position", "any")
        cands = [p for p in self.pools if p["capacity"] - p["reserved"] >= size]
        if pos == "must_local":
            cands = [p for p in cands if p["node"] == want]
        if not cands:
            raise ApiError(422, "unschedulable",
                           f"volume \"{body['name']}\": no pool has {size} bytes free ({len(self.pools)} pools)")
        cands.sort(key=lambda p: (p["node"] != want, -(p["capacity"] - p["reserved"])))
        return cands[0]

    def create_volume(self, body):
        unknown = set(body) - VOLUME_FIELDS
        if unknown:
            raise ApiError(400, "invalid_argument", f"field '{sorted(unknown)[0]}': unknown")
        if not isinstance(body.get("name"), str) or not body["name"]:
            raise ApiError(400, "invalid_argument", "field 'name': required")
        if not isinstance(body.get("size"), int) or body["size"] <= 0:
            raise ApiError(400, "invalid_argument", "field 'size': required")
        for v in self.volumes.values():
            if v["name"] == body["name"]:
                if {k: body.get(k) for k in COMPARED} != v["_params"]:
                    raise ApiError(409, "conflict", f"volume \"{body['name']}\" exists with other parameters")
                return 200, v
        src = body.get("source") or {}
        if src.get("snapshot") and src["snapshot"] not in self.snapshots:
            raise ApiError(404, "not_found", f"snapshot {src['snapshot']} not found")
        if src.get("volume") and src["volume"] not in self.volumes:
            raise ApiError(404, "not_found", f"volume {src['volume']} not found")
        pool = self.pick_pool(body)
        pool["reserved"] += body["size"]
        self.seq += 1
        vid = str(uuid.uuid4())
        v = {"id": vid, "name": body["name"], "size": body["size"], "thin": body.get("thin", False),
             "fs_type": body.get("fs_type", ""), "position": body.get("position", "any"),
             "consumer_node": body.get("consumer_node", ""), "source": src, "qos": body.get("qos", {}),
             "phase": "creating", "message": "", "node": pool["node"], "pool": pool["name"],
             "device": f"/var/lib/slio/{pool['name']}/{vid}.img", "attachments": [],
             "nqn": f"nqn.2024-01.io.slite:vol:{vid}", "degraded": False, "created_at": now(),
             "_seq": self.seq, "_gets": 0, "_params": {k: body.get(k) for k in COMPARED}}
        self.volumes[vid] = v
        return 201, v

    def volume(self, vid):
        v = self.volumes.get(vid)
        if not v:
            raise ApiError(404, "not_found", f"volume {vid} not found")
        return v

    def attach(self, vid, body):
        v = self.volume(vid)
        node = body.get("node")
        if not node:
            raise ApiError(400, "invalid_argument", "field 'node': required")
        for a in v["attachments"]:
            if a["node"] == node:
                return a
            raise ApiError(409, "conflict", f"volume {vid} is attached to {a['node']}")
        local = node == v["node"]
        a = {"volume": vid, "node": node, "local": local, "phase": "pending", "namespace_uuid": vid}
        if local:
            a["device"] = v["device"]
        else:
            a["nqn"] = v["nqn"]
            a["address"] = {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": "4420"}
        v["attachments"].append(a)
        return a


def strip(o):
    return {k: v for k, v in o.items() if not k.startswith("_")}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State = None
    token = None

    def log_message(self, *a):
        pass

    def reply(self, status, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n == 0:
            return {}
        try:
            return json.loads(self.rfile.read(n))
        except ValueError:
            raise ApiError(400, "invalid_argument", "malformed JSON")

    def handle_any(self, method):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        st = self.state
        try:
            with st.lock:
                st.calls.append((method, url.path))
            if url.path != "/v1/health" and self.token and \
                    self.headers.get("Authorization") != f"Bearer {self.token}":
                raise ApiError(401, "unauthenticated", "missing or unknown token")
            body = self.body() if method in ("POST", "PUT") else None
            if (body or {}).get("name") in st.held or any(h in url.path for h in st.held):
                st.waiting.release()
                st.gate.wait(30)
            with st.lock:
                status, out = self.route(method, url.path, q, body)
            self.reply(status, out)
        except ApiError as e:
            self.reply(e.status, {"error": {"code": e.code, "message": e.message}})

    def route(self, method, path, q, body):
        st = self.state
        if path == "/v1/health":
            return 200, {"status": "ok", "role": "single", "store": "sqlite"}
        if path == "/v1/nodes" and method == "GET":
            for i, n in enumerate(st.nodes):
                n["_seq"] = i
            return 200, st.page(st.nodes, q)
        if path == "/v1/pools" and method == "GET":
            for i, p in enumerate(st.pools):
                p["_seq"] = i
            return 200, st.page(st.pools, q)
        if path == "/v1/volumes":
            if method == "POST":
                status, v = st.create_volume(body)
                return status, strip(v)
            items = list(st.volumes.values())
            if "name" in q:
                items = [v for v in items if v["name"] == q["name"][0]]
            return 200, st.page(items, q)
        m = re.fullmatch(r"/v1/volumes/([^/]+)(/expand|/attachments(?:/([^/]+))?)?", path)
        if m:
            vid, sub, node = m.group(1), m.group(2), m.group(3)
            if sub is None:
                v = st.volume(vid)
                if method == "GET":
                    v["_gets"] += 1
                    if v["phase"] == "creating" and v["_gets"] >= 2:
                        v["phase"] = "ready"
                    return 200, strip(v)
                if method == "DELETE":
                    if v["attachments"]:
                        raise ApiError(409, "conflict", f"volume {vid} is attached to {v['attachments'][0]['node']}")
                    if any(s["volume"] == vid for s in st.snapshots.values()):
                        raise ApiError(409, "conflict", f"volume {vid} has snapshots")
                    del st.volumes[vid]
                    for p in st.pools:
                        if p["node"] == v["node"] and p["name"] == v["pool"]:
                            p["reserved"] -= v["size"]
                    return 202, strip(v)
            if sub == "/expand" and method == "POST":
                v = st.volume(vid)
                size = body.get("size")
                if not isinstance(size, int) or size < v["size"]:
                    raise ApiError(400, "invalid_argument", f"volume {vid}: never shrink ({v['size']} bytes)")
                v["size"] = size
                return 202, strip(v)
            if sub == "/attachments" and method == "POST":
                return 200, st.attach(vid, body)
            if node is not None:
                v = st.volume(vid) if method == "GET" else st.volumes.get(vid)
                atts = v["attachments"] if v else []
                a = next((a for a in atts if a["node"] == node), None)
                if method == "GET":
                    if not a:
                        raise ApiError(404, "not_found", f"volume {vid} is not attached to {node}")
                    a["phase"] = "ready"
                    return 200, a
                if method == "DELETE":
                    if a:
                        atts.remove(a)
                    return 204, None
        if path == "/v1/snapshots":
            if method == "POST":
                if set(body) - {"name", "volume", "cow_reserve"}:
                    raise ApiError(400, "invalid_argument", "unknown field")
                for s in st.snapshots.values():
                    if s["name"] == body["name"]:
                        if s["volume"] != body["volume"]:
                            raise ApiError(409, "conflict", f"snapshot \"{body['name']}\" is of another volume")
                        return 200, strip(s)
                v = st.volume(body["volume"])
                st.seq += 1
                sid = str(uuid.uuid4())
                s = {"id": sid, "name": body["name"], "volume": v["id"], "size": v["size"],
                     "node": v["node"], "pool": v["pool"], "phase": "ready", "ready_to_use": True,
                     "created_at": now(), "_seq": st.seq}
                st.snapshots[sid] = s
                return 201, strip(s)
            items = list(st.snapshots.values())
            if "volume" in q:
                items = [s for s in items if s["volume"] == q["volume"][0]]
            return 200, st.page(items, q)
        m = re.fullmatch(r"/v1/snapshots/([^/]+)", path)
        if m:
            s = st.snapshots.get(m.group(1))
            if not s:
                raise ApiError(404, "not_found", f"snapshot {m.group(1)} not found")
            if method == "GET":
                return 200, strip(s)
            if method == "DELETE":
                if any((v["source"] or {}).get("snapshot") == s["id"] for v in st.volumes.values()):
                    raise ApiError(409, "conflict", "snapshot in use")
                del st.snapshots[s["id"]]
                return 202, None
        raise ApiError(404, "not_found", f"{method} {path}: no such endpoint")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")


def serve(port, token=None):
    """Start in a thread; returns (server, state)."""
    state = State()
    handler = type("H", (Handler,), {"state": state, "token": token})
    srv = ThreadingHTTPServer(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, state


if __name__ == "__main__":
    s, _ = serve(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
    threading.Event().wait()
