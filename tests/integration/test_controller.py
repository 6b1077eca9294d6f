# SPDX-License-Identifier: Apache-2.0
"""slio-controller end to end on loopback: every endpoint of api/openapi.yaml,
its error cases, a simulated agent driving volumes through their phases,
heartbeat loss, concurrency (no overbooking) and SIGKILL consistency."""
import http.client
import json
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest

from controller_proc import TOKENS, GiB, Agent, Controller


@pytest.fixture
def ctl(tmp_path):
    c = Controller(tmp_path).start()
    yield c
    c.stop()


def create(ctl, name, size=GiB, want=201, **kw):
    return ctl.ok("POST", "/v1/volumes", {"name": name, "size": size, **kw}, token="csi",
                  want=(want,))


def list_all(ctl, path, limit=1000):
    items, cont = [], None
    while True:
        sep = "&" if "?" in path else "?"
        q = f"{path}{sep}limit={limit}" + (f"&continue={cont}" if cont else "")
        page = ctl.ok("GET", q)
        items += page["items"]
        cont = page.get("continue")
        if not cont:
            return items


def events_of(ctl, obj):
    return [e["reason"] for e in list_all(ctl, f"/v1/events?object={urllib.parse.quote(obj)}")]


# ---- health, metrics, auth, errors ------------------------------------------------------------

def test_health_and_metrics_promtool_clean(ctl, tmp_path):
    status, h = ctl.call("GET", "/v1/health", token=None)
    assert status == 200
    assert h["status"] == "ok" and h["role"] == "single" and h["store"] == "sqlite"
    Agent(ctl, "node-a").register()
    create(ctl, "m1")
    status, text = ctl.call("GET", "/metrics", token=None)
    assert status == 200
    assert 'sliteio_pool_allocated_bytes{node="node-a",pool="vg0"} 1073741824' in text
    assert "sliteio_controller_volumes_created_total 1" in text
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()


def test_auth_scopes(ctl):
    assert "missing bearer token" in ctl.error("GET", "/v1/volumes", token=None, status=401,
                                               code="unauthenticated")
    assert "unknown token" in ctl.error("GET", "/v1/volumes", token="not-a-real-token-xxxxx",
                                        status=401, code="unauthenticated")
    for tok in ("admin", "csi", "agent", "readonly"):
        ctl.ok("GET", "/v1/volumes", token=tok)
    body = {"name": "v", "size": GiB}
    assert "readonly" in ctl.error("POST", "/v1/volumes", body, token="readonly", status=403,
                                   code="forbidden")
    ctl.error("POST", "/v1/volumes", body, token="agent", status=403, code="forbidden")
    ctl.error("POST", "/v1/nodes/a/pools/b/cordon", token="csi", status=403, code="forbidden")
    ctl.error("POST", "/v1/agent/heartbeat", {"node": "a"}, token="csi", status=403,
              code="forbidden")


def test_bad_requests(ctl):
    assert "request body" in ctl.error("POST", "/v1/volumes", raw=b"{oops", code="invalid_argument")
    assert "request body: missing" in ctl.error("POST", "/v1/volumes", raw=b"")
    assert "unknown field 'colour'" in ctl.error("POST", "/v1/volumes",
                                                 {"name": "v", "size": 1, "colour": "red"})
    assert "field 'name': missing" in ctl.error("POST", "/v1/volumes", {"size": GiB})
    assert "field 'size'" in ctl.error("POST", "/v1/volumes", {"name": "v", "size": "10 GB"})
    assert "field 'name'" in ctl.error("POST", "/v1/volumes", {"name": "a/b", "size": GiB})
    assert "field 'position'" in ctl.error("POST", "/v1/volumes",
                                           {"name": "v", "size": GiB, "position": "must_local"})
    assert "field 'node_selector'" in ctl.error("POST", "/v1/volumes", {
        "name": "v", "size": GiB, "node_selector": [{"key": "k", "operator": "Near"}]})
    assert "field 'spread.group': missing" in ctl.error("POST", "/v1/volumes",
                                                        {"name": "v", "size": GiB, "spread": {}})
    # A body over limits.max_body: refused from its Content-Length, before it is read.
    conn = http.client.HTTPConnection("127.0.0.1", ctl.port, timeout=10)
    conn.putrequest("POST", "/v1/volumes")
    conn.putheader("Authorization", "Bearer " + TOKENS["csi"])
    conn.putheader("Content-Length", str(2 << 20))
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 413 and json.loads(r.read())["error"]["code"] == "too_large"
    conn.close()
    assert "not a UUID" in ctl.error("GET", "/v1/volumes/xyz")
    assert "not found" in ctl.error("GET", "/v1/volumes/0190a8f0-0000-7000-8000-000000000000",
                                    status=404, code="not_found")
    ctl.error("GET", "/v1/nothing-here", status=404)
    assert "query 'limit'" in ctl.error("GET", "/v1/volumes?limit=0")
    assert "query 'limit'" in ctl.error("GET", "/v1/volumes?limit=1001")
    assert "query 'continue'" in ctl.error("GET", "/v1/volumes?continue=zz")
    assert "query 'kind'" in ctl.error("GET", "/v1/events?kind=planet")
    assert "not registered" in ctl.error("POST", "/v1/agent/heartbeat", {"node": "ghost"},
                                         token="agent", status=404)


# ---- volumes with a simulated agent -----------------------------------------------------------

def test_volume_lifecycle_local_and_remote(ctl):
    a, b = Agent(ctl, "node-a"), Agent(ctl, "node-b")
    reg = a.register()
    assert reg["heartbeat_interval_s"] == 1 and reg["revision"] > 0
    assert reg["heartbeat_interval_ms"] == 1000
    b.register()
    v = create(ctl, "pvc-1", 2 * GiB, position="must_local", consumer_node="node-a")
    assert v["phase"] == "creating" and v["node"] == "node-a" and v["pool"] == "vg0"
    assert v["nqn"] == f"nqn.2024-01.io.slite:vol:{v['id']}"
    d = a.desired()
    assert [x["id"] for x in d["volumes"]] == [v["id"]]
    assert d["volumes"][0]["state"] == "present" and d["volumes"][0]["size"] == 2 * GiB
    assert b.desired()["volumes"] == []

    a.reconcile()
    v = ctl.ok("GET", f"/v1/volumes/{v['id']}")
    assert v["phase"] == "ready" and v["device"] == f"/dev/vg0/{v['id']}" and not v["degraded"]

    att = ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-a"}, token="csi")
    assert att["local"] and att["phase"] == "ready" and att["device"] == v["device"]
    assert "one node at a time" in ctl.error("POST", f"/v1/volumes/{v['id']}/attachments",
                                             {"node": "node-b"}, token="csi", status=409,
                                             code="conflict")
    assert "detach it first" in ctl.error("DELETE", f"/v1/volumes/{v['id']}", token="csi",
                                          status=409)
    assert ctl.call("DELETE", f"/v1/volumes/{v['id']}/attachments/node-a", token="csi")[0] == 204
    assert ctl.call("DELETE", f"/v1/volumes/{v['id']}/attachments/node-a", token="csi")[0] == 204

    att = ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    assert not att["local"] and att["phase"] == "pending" and att["host_nqn"] == b.host_nqn
    again = ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    assert again["phase"] == "pending"
    exports = a.desired()["volumes"][0]["exports"]
    assert exports == [{"host_nqn": b.host_nqn, "node": "node-b"}]
    a.reconcile()
    att = ctl.ok("GET", f"/v1/volumes/{v['id']}/attachments/node-b")
    assert att["phase"] == "ready" and att["nqn"] == v["nqn"]
    assert att["address"] == {"traddr": "127.0.0.9", "trsvcid": "4420"}
    assert att["namespace_uuid"] == v["id"]
    ctl.error("GET", f"/v1/volumes/{v['id']}/attachments/node-a", status=404)
    ctl.ok("DELETE", f"/v1/volumes/{v['id']}/attachments/node-b", token="csi")
    assert a.desired()["volumes"][0]["exports"] == []

    gone = ctl.ok("DELETE", f"/v1/volumes/{v['id']}", token="csi", want=(202,))
    assert gone["phase"] == "deleting"
    assert ctl.ok("DELETE", f"/v1/volumes/{v['id']}", token="csi", want=(202,))["phase"] == "deleting"
    assert a.desired()["volumes"][0]["state"] == "absent"
    ctl.ok("GET", f"/v1/volumes/{v['id']}")  # still there until the agent confirms
    a.reconcile()
    ctl.error("GET", f"/v1/volumes/{v['id']}", status=404)
    assert a.desired()["volumes"] == []
    reasons = events_of(ctl, v["id"])
    assert reasons[0] == "Placed" and "Ready" in reasons and reasons[-1] == "Deleted"
    assert "Attaching" in reasons and "Exported" in reasons and "Detached" in reasons
    pool = ctl.ok("GET", "/v1/nodes/node-a/pools/vg0")
    assert pool["reserved"] == 0 and pool["volumes"] == 0


def test_create_is_idempotent_by_name(ctl):
    Agent(ctl, "node-a").register()
    v1 = create(ctl, "same", GiB, labels={"app": "db"})
    v2 = create(ctl, "same", GiB, labels={"app": "db"}, want=200)
    assert v1["id"] == v2["id"]
    msg = ctl.error("POST", "/v1/volumes", {"name": "same", "size": 2 * GiB}, token="csi",
                    status=409, code="conflict")
    assert "other parameters" in msg and v1["id"] in msg
    assert [x["id"] for x in ctl.ok("GET", "/v1/volumes?name=same")["items"]] == [v1["id"]]


def test_unschedulable_says_why(ctl):
    Agent(ctl, "node-a", pools=[{"name": "vg0", "engine": "lvm", "capacity": 10 * GiB,
                                 "free": 10 * GiB}]).register()
    msg = ctl.error("POST", "/v1/volumes", {"name": "big", "size": 11 * GiB}, token="csi",
                    status=422, code="unschedulable")
    assert 'volume "big"' in msg and "0/1 pools" in msg
    ctl.ok("POST", "/v1/nodes/node-a/pools/vg0/cordon")
    msg = ctl.error("POST", "/v1/volumes", {"name": "small", "size": GiB}, token="csi",
                    status=422)
    assert "0/1 pools" in msg
    ctl.ok("POST", "/v1/nodes/node-a/pools/vg0/uncordon")
    create(ctl, "small")


def test_pagination_is_stable(ctl):
    Agent(ctl, "node-a").register()
    ids = [create(ctl, f"p{i:02d}")["id"] for i in range(25)]
    page = ctl.ok("GET", "/v1/volumes?limit=10")
    assert [v["id"] for v in page["items"]] == ids[:10]
    create(ctl, "late-1")  # created while paging: comes after, never shifts what we saw
    page2 = ctl.ok("GET", f"/v1/volumes?limit=10&continue={page['continue']}")
    assert [v["id"] for v in page2["items"]] == ids[10:20]
    page3 = ctl.ok("GET", f"/v1/volumes?limit=10&continue={page2['continue']}")
    assert [v["id"] for v in page3["items"]][:5] == ids[20:]
    assert "continue" not in page3
    # a continue token of another list is refused
    ctl.error("GET", f"/v1/snapshots?continue={page['continue']}")
    nodes = ctl.ok("GET", "/v1/nodes")
    assert [n["name"] for n in nodes["items"]] == ["node-a"] and "continue" not in nodes
    pools = ctl.ok("GET", "/v1/pools?node=node-a")["items"]
    assert len(pools) == 1 and pools[0]["volumes"] == 26 and pools[0]["reserved"] == 26 * GiB
    two = [{"name": n, "engine": "lvm", "capacity": GiB, "free": GiB} for n in ("p1", "p2", "p3")]
    for n in ("node-b", "node-c"):
        Agent(ctl, n, pools=two).register()
    seen, cont = [], None
    for want in (4, 3):  # 7 pools in pages of 4: the first page ends inside node-b
        page = ctl.ok("GET", "/v1/pools?limit=4" + (f"&continue={cont}" if cont else ""))
        assert len(page["items"]) == want
        seen += [(p["node"], p["name"]) for p in page["items"]]
        cont = page.get("continue")
    assert cont is None
    assert seen == [("node-a", "vg0")] + [(n, p) for n in ("node-b", "node-c")
                                           for p in ("p1", "p2", "p3")]
    assert [p["name"] for p in list_all(ctl, "/v1/pools?node=node-c", limit=2)] == ["p1", "p2", "p3"]


def test_long_poll_wakes_on_change(ctl):
    a = Agent(ctl, "node-a")
    a.register()
    rev = a.desired()["revision"]
    t0 = time.monotonic()
    same = a.desired(revision=rev, wait="1s")
    assert same["revision"] == rev and 0.9 < time.monotonic() - t0 < 5
    result = {}

    def poll():
        result["d"] = a.desired(revision=rev, wait="30s")
        result["t"] = time.monotonic()

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.3)  # let the poll park first: the point is the wake-up
    t_create = time.monotonic()
    v = create(ctl, "wake")
    th.join(10)
    assert "d" in result and result["d"]["revision"] > rev
    assert result["t"] - t_create < 2
    assert [x["id"] for x in result["d"]["volumes"]] == [v["id"]]
    assert a.heartbeat()["revision"] == result["d"]["revision"]
    ctl.error("GET", "/v1/agent/nodes/node-a/desired?revision=-1", token="agent")
    ctl.error("GET", "/v1/agent/nodes/node-a/desired?wait=forever", token="agent")


def test_heartbeat_loss_unknown_then_offline(tmp_path):
    ctl = Controller(tmp_path, heartbeat_interval="200ms", unknown_after="1s",
                     offline_after="2s").start()
    try:
        a = Agent(ctl, "node-a")
        # the sub-second interval reaches the agent exactly (not as 0 seconds)
        reg = a.register()
        assert reg["heartbeat_interval_ms"] == 200 and reg["heartbeat_interval_s"] == 1
        # heartbeating at that interval for 3 x unknown_after: never unknown
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3:
            a.heartbeat()
            assert ctl.ok("GET", "/v1/nodes/node-a")["status"] == "ready"
            time.sleep(0.2)
        v = create(ctl, "hb")
        status = lambda: ctl.ok("GET", "/v1/nodes/node-a")["status"]
        ctl.wait_for("unknown", lambda: status() == "unknown", 5)
        assert ctl.ok("GET", f"/v1/volumes/{v['id']}")["degraded"]
        ctl.wait_for("offline", lambda: status() == "offline", 5)
        assert ctl.ok("GET", "/v1/nodes/node-a/pools/vg0")["status"] == "offline"
        msg = ctl.error("POST", "/v1/volumes", {"name": "x", "size": GiB}, token="csi", status=422)
        assert "0/1 pools" in msg
        a.heartbeat()
        ctl.wait_for("ready", lambda: status() == "ready", 5)
        assert not ctl.ok("GET", f"/v1/volumes/{v['id']}")["degraded"]
        reasons = events_of(ctl, "node-a")
        assert reasons[:1] == ["Registered"] and "NodeUnknown" in reasons
        assert "NodeOffline" in reasons and reasons[-1] == "NodeReady"
    finally:
        ctl.stop()


def test_expand_qos_drain(ctl):
    a = Agent(ctl, "node-a", pools=[{"name": "vg0", "engine": "lvm", "capacity": 10 * GiB,
                                     "free": 10 * GiB}])
    a.register()
    v = create(ctl, "grow", 2 * GiB, consumer_node="node-a", position="must_local")
    assert create(ctl, "free", GiB)["node"] == "node-a"  # the only node yet
    Agent(ctl, "node-b").register()
    assert "only a ready volume" in ctl.error("POST", f"/v1/volumes/{v['id']}/expand",
                                              {"size": 3 * GiB}, token="csi", status=409)
    a.reconcile()
    assert "never shrink" in ctl.error("POST", f"/v1/volumes/{v['id']}/expand",
                                       {"size": GiB}, token="csi")
    msg = ctl.error("POST", f"/v1/volumes/{v['id']}/expand", {"size": 10 * GiB}, token="csi",
                    status=422, code="unschedulable")
    assert v["id"] in msg
    e = ctl.ok("POST", f"/v1/volumes/{v['id']}/expand", {"size": "4Gi"}, token="csi", want=(202,))
    assert e["phase"] == "expanding" and e["size"] == 4 * GiB
    assert a.desired()["volumes"][0]["size"] == 4 * GiB
    a.reconcile()
    assert ctl.ok("GET", f"/v1/volumes/{v['id']}")["phase"] == "ready"
    ctl.ok("POST", f"/v1/volumes/{v['id']}/expand", {"size": 4 * GiB}, token="csi", want=(202,))

    q = ctl.ok("PUT", f"/v1/volumes/{v['id']}/qos", {"rw_ios_per_sec": 1000}, token="csi")
    assert q["qos"]["rw_ios_per_sec"] == 1000
    assert a.desired()["volumes"][0]["qos"]["rw_ios_per_sec"] == 1000
    ctl.error("PUT", f"/v1/volumes/{v['id']}/qos", {"iops": 1}, token="csi")

    ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-a"}, token="csi")
    plan = ctl.ok("POST", "/v1/nodes/node-a/pools/vg0/drain")
    assert plan["pool"] == "node-a/vg0"
    moves = {m["name"]: m for m in plan["moves"]}
    assert set(moves) == {"grow", "free"}
    assert moves["grow"]["attached_to"] == "node-a" and "target_pool" not in moves["grow"]
    assert moves["grow"]["reason"]  # must_local: nowhere else, and it says why
    assert moves["free"]["target_pool"] == "node-b/vg0"
    assert ctl.ok("GET", "/v1/nodes/node-a/pools/vg0")["cordoned"]
    ctl.error("POST", "/v1/nodes/node-a/pools/nope/drain", status=404)
    ctl.error("POST", "/v1/nodes/node-z/pools/vg0/cordon", status=404)


def test_snapshots_and_clone(ctl):
    a = Agent(ctl, "node-a")
    a.register()
    Agent(ctl, "node-b").register()
    v = create(ctl, "src", 2 * GiB, consumer_node="node-a", position="must_local")
    msg = ctl.error("POST", "/v1/snapshots", {"name": "s1", "volume": v["id"]}, token="csi",
                    status=409)
    assert "only a ready volume" in msg
    a.reconcile()
    s = ctl.ok("POST", "/v1/snapshots", {"name": "s1", "volume": v["id"]}, token="csi",
               want=(201,))
    assert s["phase"] == "creating" and not s["ready_to_use"] and s["node"] == "node-a"
    assert ctl.ok("POST", "/v1/snapshots", {"name": "s1", "volume": v["id"]}, token="csi",
                  want=(200,))["id"] == s["id"]
    other = create(ctl, "other")
    ctl.error("POST", "/v1/snapshots", {"name": "s1", "volume": other["id"]}, token="csi",
              status=409)
    assert "has snapshots" in ctl.error("DELETE", f"/v1/volumes/{v['id']}", token="csi",
                                        status=409)
    assert a.desired()["snapshots"][0]["id"] == s["id"]
    a.reconcile()
    assert ctl.ok("GET", f"/v1/snapshots/{s['id']}")["ready_to_use"]
    listed = ctl.ok("GET", f"/v1/snapshots?volume={v['id']}")["items"]
    assert [x["id"] for x in listed] == [s["id"]]
    clone = create(ctl, "clone", 2 * GiB, source={"snapshot": s["id"]})
    assert (clone["node"], clone["pool"]) == ("node-a", "vg0")
    assert "smaller than the source" in ctl.error("POST", "/v1/volumes", {
        "name": "tiny", "size": GiB, "source": {"snapshot": s["id"]}}, token="csi")
    ctl.ok("DELETE", f"/v1/snapshots/{s['id']}", token="csi", want=(202,))
    a.reconcile()
    ctl.error("GET", f"/v1/snapshots/{s['id']}", status=404)
    assert "Deleted" in events_of(ctl, s["id"])


def test_orphans_listed_never_deleted(ctl):
    a = Agent(ctl, "node-a")
    a.register()
    orphan = {"pool": "vg0", "uuid": "0190a8f0-1111-7000-8000-000000000000", "kind": "volume",
              "device": "/dev/vg0/x", "size": GiB}
    a.report(orphans=[orphan])
    items = ctl.ok("GET", "/v1/orphans")["items"]
    assert len(items) == 1 and items[0]["node"] == "node-a" and items[0]["uuid"] == orphan["uuid"]
    assert a.desired()["volumes"] == []  # nothing asks the agent to delete it
    assert "Orphans" in events_of(ctl, "node-a")


# ---- concurrency and crashes ---------------------------------------------------------------------

def test_200_concurrent_creates_150_fit(ctl):
    for n in ("node-a", "node-b", "node-c"):
        Agent(ctl, n, pools=[{"name": "vg0", "engine": "lvm", "capacity": 50 * GiB,
                              "free": 50 * GiB}]).register()

    def one(i):
        return ctl.call("POST", "/v1/volumes", {"name": f"c{i:03d}", "size": GiB}, token="csi")

    with ThreadPoolExecutor(200) as ex:
        results = list(ex.map(one, range(200)))
    statuses = [s for s, _ in results]
    assert statuses.count(201) == 150, statuses
    assert statuses.count(422) == 50
    for _, body in results:
        if "error" in body:
            assert body["error"]["code"] == "unschedulable"
    vols = list_all(ctl, "/v1/volumes")
    assert len(vols) == 150
    for p in ctl.ok("GET", "/v1/pools")["items"]:
        on = [v for v in vols if v["node"] == p["node"]]
        assert p["reserved"] == sum(v["size"] for v in on) <= p["capacity"]
        assert p["volumes"] == len(on) == 50


def test_sigkill_during_creates_converges(ctl):
    for n in ("node-a", "node-b"):
        Agent(ctl, n, pools=[{"name": "vg0", "engine": "lvm", "capacity": 1000 * GiB,
                              "free": 1000 * GiB}]).register()
    acked, stop = {}, threading.Event()

    def stream(k):
        i = 0
        while not stop.is_set():
            try:
                status, body = ctl.call("POST", "/v1/volumes", {"name": f"k{k}-{i}", "size": GiB},
                                        token="csi", timeout=5)
            except OSError:
                return
            if status == 201:
                acked[body["name"]] = body["id"]
            i += 1

    threads = [threading.Thread(target=stream, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    ctl.wait_for("some creates", lambda: len(acked) >= 40, 30)
    ctl.kill9()
    stop.set()
    for t in threads:
        t.join(10)
    ctl.start()
    vols = list_all(ctl, "/v1/volumes")
    by_name = {}
    for v in vols:
        assert v["name"] not in by_name, f"{v['name']} placed twice"
        by_name[v["name"]] = v["id"]
    for name, vid in acked.items():
        assert by_name.get(name) == vid, f"acknowledged {name} {vid} lost"
    for p in ctl.ok("GET", "/v1/pools")["items"]:
        on = [v for v in vols if v["node"] == p["node"]]
        assert p["reserved"] == sum(v["size"] for v in on)  # the view equals the store
        assert p["volumes"] == len(on)
    # retrying every create after the restart is idempotent
    for name, vid in list(acked.items())[:20]:
        assert create(ctl, name, want=200)["id"] == vid


def test_long_polls_are_capped(tmp_path):
    ctl = Controller(tmp_path, limits={"max_long_polls": 1, "long_poll_max": "3s"}).start()
    try:
        a = Agent(ctl, "node-a")
        rev = a.register()["revision"]
        parked = threading.Thread(target=a.desired, kwargs={"revision": rev, "wait": "3s"})
        parked.start()
        ctl.wait_for("a parked poll", lambda: "sliteio_controller_long_polls 1" in
                     ctl.call("GET", "/metrics", token=None)[1], 5)
        t0 = time.monotonic()
        assert a.desired(revision=rev, wait="3s")["revision"] == rev  # over the cap: at once
        assert time.monotonic() - t0 < 1.5
        parked.join(10)
        t0 = time.monotonic()
        a.desired(revision=rev, wait="60s")  # the slot is free again; wait capped at 3 s
        assert 2.5 < time.monotonic() - t0 < 6
    finally:
        ctl.stop()


def test_snapshot_reserve_held_back_across_restart(ctl):
    a = Agent(ctl, "node-a", pools=[{"name": "vg0", "engine": "lvm", "capacity": 10 * GiB,
                                     "free": 10 * GiB}])
    a.register()
    v = create(ctl, "base", 2 * GiB)
    a.reconcile()
    s = ctl.ok("POST", "/v1/snapshots", {"name": "cow", "volume": v["id"], "cow_reserve": "7Gi"},
               token="csi", want=(201,))
    assert s["cow_reserve"] == 7 * GiB
    ctl.error("POST", "/v1/volumes", {"name": "x", "size": 2 * GiB}, token="csi", status=422)
    ctl.stop()
    ctl.start()  # the reserve comes back from the store's index
    a.heartbeat()
    ctl.error("POST", "/v1/volumes", {"name": "x", "size": 2 * GiB}, token="csi", status=422)
    create(ctl, "fits", GiB)
    ctl.ok("DELETE", f"/v1/snapshots/{s['id']}", token="csi", want=(202,))
    a.reconcile()
    create(ctl, "x", 2 * GiB)
