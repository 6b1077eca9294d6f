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
