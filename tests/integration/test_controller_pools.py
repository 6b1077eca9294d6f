# SPDX-License-Identifier: Apache-2.0
"""slio-controller: pools an agent stops reporting leave the scheduler's choices while
their volumes stay recorded and flagged (also across a restart); a snapshot's
copy-on-write reserve is checked against its pool's room when it is created."""
import pytest

from controller_proc import GiB, Agent, Controller
from test_controller import create, events_of


@pytest.fixture
def ctl(tmp_path):
    c = Controller(tmp_path).start()
    yield c
    c.stop()


def pool(name, capacity=100 * GiB, thin=False, **kw):
    return {"name": name, "engine": "lvm", "capacity": capacity, "free": capacity, "thin": thin,
            **kw}


def test_unreported_pool_leaves_the_choices_volumes_stay_flagged(ctl):
    a = Agent(ctl, "node-a", pools=[pool("vg1")])
    a.register()
    kept = create(ctl, "on-vg1", 10 * GiB)
    assert kept["pool"] == "vg1"
    a.pools = [pool("vg0"), pool("vg1")]
    a.register()
    a.pools = [pool("vg0")]  # the agent no longer reports vg1 (disk pulled, VG renamed)
    a.register()
    for i in range(6):  # vg1 is emptier than vg0 after these, yet never chosen
        assert create(ctl, f"new-{i}", 5 * GiB)["pool"] == "vg0"
    got = ctl.ok("GET", f"/v1/volumes/{kept['id']}")
    assert got["pool"] == "vg1" and got["degraded"]
    assert not ctl.ok("GET", "/v1/volumes?name=new-0")["items"][0]["degraded"]
    assert "PoolsUnreported" in events_of(ctl, "node-a")
    # a restart rebuilds the view from the store: vg1 is still held, never a choice
    ctl.stop()
    ctl.start()
    assert ctl.ok("GET", f"/v1/volumes/{kept['id']}")["degraded"]
    a.heartbeat()
    assert create(ctl, "after-restart", 5 * GiB)["pool"] == "vg0"
    msg = ctl.error("POST", "/v1/volumes", {"name": "big", "size": 80 * GiB}, token="csi",
                    status=422)
    assert "1 no longer reported by its agent" in msg and "1 insufficient space" in msg
    # reported again: schedulable, not flagged, its volume still counted
    a.pools = [pool("vg0"), pool("vg1")]
    a.register()
    assert not ctl.ok("GET", f"/v1/volumes/{kept['id']}")["degraded"]
    assert create(ctl, "big", 80 * GiB)["pool"] == "vg1"
    assert "0/2 pools" in ctl.error("POST", "/v1/volumes", {"name": "too-big", "size": 80 * GiB},
                                    token="csi", status=422)


def test_offline_node_pools_never_chosen_volumes_flagged(tmp_path):
    ctl = Controller(tmp_path, heartbeat_interval="200ms", unknown_after="1s",
                     offline_after="2s").start()
    try:
        a, b = Agent(ctl, "node-a"), Agent(ctl, "node-b")
        a.register()
        v = create(ctl, "on-a", GiB, consumer_node="node-a", position="must_local")
        b.register()
        status = lambda: ctl.ok("GET", "/v1/nodes/node-a")["status"]

        def b_alive_a_offline():
            b.heartbeat()
            return status() == "offline"
        ctl.wait_for("node-a offline", b_alive_a_offline, 8)
        assert ctl.ok("GET", f"/v1/volumes/{v['id']}")["degraded"]
        for i in range(4):
            assert create(ctl, f"n{i}", GiB)["node"] == "node-b"
    finally:
        ctl.stop()


def test_snapshot_reserve_needs_room_and_holds_it(ctl):
    a = Agent(ctl, "node-a", pools=[pool("vg0", 10 * GiB)])
    a.register()
    v = create(ctl, "base", 4 * GiB)
    a.reconcile()
    msg = ctl.error("POST", "/v1/snapshots", {"name": "s-big", "volume": v["id"],
                                              "cow_reserve": "7Gi"}, token="csi", status=422)
    assert msg == ('snapshot "s-big" of volume "base" (copy-on-write reserve of 7.00 GiB): pool '
                   '"node-a/vg0" has 6.00 GiB left for reserves, 7.00 GiB asked (4.00 GiB '
                   'allocated, 0.00 GiB already reserved)'), msg
    assert ctl.ok("GET", "/v1/snapshots?name=s-big")["items"] == []
    s = ctl.ok("POST", "/v1/snapshots", {"name": "s1", "volume": v["id"], "cow_reserve": "5Gi"},
               token="csi", want=(201,))
    # the 5 GiB are held: 1 GiB left for volumes and for other reserves
    assert "0/1 pools: 1 insufficient space" in ctl.error(
        "POST", "/v1/volumes", {"name": "x", "size": 2 * GiB}, token="csi", status=422)
    assert "1.00 GiB left" in ctl.error("POST", "/v1/snapshots", {
        "name": "s2", "volume": v["id"], "cow_reserve": "2Gi"}, token="csi", status=422)
    create(ctl, "fits", GiB)
    ctl.ok("DELETE", f"/v1/snapshots/{s['id']}", token="csi", want=(202,))
    a.reconcile()
    create(ctl, "x", 2 * GiB)  # the reserve went with the snapshot


def test_thin_snapshot_costs_virtual_capacity(ctl):
    # 10 GiB thin pool, over-provision 2: 20 GiB virtual, 9 GiB really free
    a = Agent(ctl, "node-a", pools=[{**pool("thin0", 10 * GiB, thin=True), "free": 9 * GiB,
                                     "overprovision": 2.0}])
    a.register()
    v = create(ctl, "thinvol", 8 * GiB, thin=True)
    a.reconcile()
    s = ctl.ok("POST", "/v1/snapshots", {"name": "t1", "volume": v["id"]}, token="csi",
               want=(201,))  # 8 GiB of virtual capacity: 4 GiB left
    msg = ctl.error("POST", "/v1/snapshots", {"name": "t2", "volume": v["id"]}, token="csi",
                    status=422)
    assert "thin reserve of 8.00 GiB" in msg and "4.00 GiB of virtual capacity left" in msg, msg
    assert "insufficient space" in ctl.error("POST", "/v1/volumes", {
        "name": "y", "size": 5 * GiB, "thin": True}, token="csi", status=422)
    ctl.stop()
    ctl.start()  # the reserve is rebuilt from the store's index
    a.heartbeat()
    assert "insufficient space" in ctl.error("POST", "/v1/volumes", {
        "name": "y", "size": 5 * GiB, "thin": True}, token="csi", status=422)
    ctl.ok("DELETE", f"/v1/snapshots/{s['id']}", token="csi", want=(202,))
    a.reconcile()
    create(ctl, "y", 5 * GiB, thin=True)


def test_reregistered_without_a_pool_never_placed_on_it(ctl):
    """An agent registered with pools A and B, then again (its config changed) with A only:
    no new volume lands on B, B is listed as unreported, its volume is flagged and stays in
    the agent's desired state (never deleted); the agent's heartbeats change none of that."""
    a = Agent(ctl, "node-a", pools=[pool("pool-a", 100 * GiB), pool("pool-b", 400 * GiB)])
    a.register()
    on_b = create(ctl, "on-b", 10 * GiB)
    assert on_b["pool"] == "pool-b"  # the emptier after placing: least_allocated's choice
    a.reconcile()
    a.pools = [pool("pool-a", 100 * GiB)]
    a.register()
    a.heartbeat()
    for i in range(5):  # B is far emptier, yet never chosen
        v = create(ctl, f"after-{i}", 5 * GiB)
        assert (v["node"], v["pool"]) == ("node-a", "pool-a")
    msg = ctl.error("POST", "/v1/volumes", {"name": "big", "size": 90 * GiB}, token="csi",
                    status=422)
    assert "1 no longer reported by its agent" in msg
    b = ctl.ok("GET", "/v1/nodes/node-a/pools/pool-b")
    assert b["status"] == "unreported" and b["volumes"] == 1
    listed = {p["name"]: p["status"] for p in ctl.ok("GET", "/v1/pools")["items"]}
    assert listed == {"pool-a": "ready", "pool-b": "unreported"}
    node = ctl.ok("GET", "/v1/nodes/node-a")
    assert {p["name"]: p["status"] for p in node["pools"]} == listed
    got = ctl.ok("GET", f"/v1/volumes/{on_b['id']}")
    assert got["pool"] == "pool-b" and got["degraded"] and got["phase"] == "ready"
    kept = [x for x in a.desired()["volumes"] if x["id"] == on_b["id"]]
    assert kept and kept[0]["state"] == "present"
    # registering again without B neither repeats the warning nor forgets B
    a.register()
    assert events_of(ctl, "node-a").count("PoolsUnreported") == 1
    assert ctl.ok("GET", "/v1/nodes/node-a/pools/pool-b")["status"] == "unreported"
    # B's volume deleted: the agent confirms, and B leaves the listing for good
    ctl.ok("DELETE", f"/v1/volumes/{on_b['id']}", token="csi", want=(202, 200, 204))
    a.reconcile()
    a.register()
    assert [p["name"] for p in ctl.ok("GET", "/v1/pools")["items"]] == ["pool-a"]
