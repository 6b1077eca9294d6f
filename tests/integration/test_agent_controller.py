# SPDX-License-Identifier: Apache-2.0
"""slio-agent with the REAL slio-controller and a real slio-tgt: volumes
created through the REST API are carved by the agent on the file engine,
attached to another node through an export in slio-tgt, QoS'd, expanded,
snapshotted, cloned and deleted; kill -9 of the agent mid-create converges;
an orphan is listed by the controller and left alone. The consumer node is
played over the agent API (controller_proc.Agent) since only its host NQN
matters here.
"""
import os
import subprocess
import time

import pytest

from conftest import binary
from controller_proc import Agent as PlayedNode
from controller_proc import Controller
from test_agent import NQN_PREFIX, Agent, bdevs, poll_until, subsystems

MiB = 1 << 20


@pytest.fixture
def ctl(tmp_path):
    d = tmp_path / "controller"
    d.mkdir()
    c = Controller(d).start()
    yield c
    c.stop()


@pytest.fixture
def agent(tmp_path, target, ctl):
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(d, target, ctl, token_file=ctl.dir / "agent.token")
    a.start()
    ctl.wait_for("node n1 ready", lambda: ctl.call("GET", "/v1/nodes/n1")[0] == 200 and
                 ctl.ok("GET", "/v1/nodes/n1")["status"] == "ready", timeout=15)
    yield a
    alive = a.proc is not None and a.proc.poll() is None
    if alive:
        a.stop()
    assert alive or a.proc is None, f"slio-agent died during the test:\n{a.logtail()}"


@pytest.fixture
def consumer(ctl):
    b = PlayedNode(ctl, "node-b", pools=[{"name": "small", "engine": "file",
                                          "capacity": MiB, "free": MiB}])
    b.register()
    return b


def create(ctl, name, size, **kw):
    return ctl.ok("POST", "/v1/volumes", {"name": name, "size": size, "position": "must_local",
                                          "consumer_node": "n1", **kw}, token="csi")


def phase(ctl, vid, want, timeout=30):
    def check():
        status, v = ctl.call("GET", f"/v1/volumes/{vid}")
        if want == "gone":
            return status == 404
        return status == 200 and v["phase"] == want and v
    return ctl.wait_for(f"volume {vid} {want}", check, timeout=timeout)


def test_register_pool_figures(agent, ctl):
    n = ctl.ok("GET", "/v1/nodes/n1")
    assert n["host_nqn"] == "nqn.2024-01.io.slite:node:n1"
    assert n["agent_url"] == agent.url
    (p,) = n["pools"]
    assert p["name"] == "p1" and p["engine"] == "file" and p["capacity"] == 20 << 30


def test_lifecycle_through_the_api(agent, ctl, target, consumer):
    v = create(ctl, "pvc-1", 16 * MiB)
    assert v["node"] == "n1" and v["pool"] == "p1"
    v = phase(ctl, v["id"], "ready")
    assert os.path.getsize(v["device"]) == 16 * MiB
    assert agent.files() == [v["id"]]

    # Another node attaches: exported to its host NQN only.
    att = ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    assert not att["local"]
    att = ctl.wait_for("attachment ready", lambda: (
        lambda a: a["phase"] == "ready" and a)(
            ctl.ok("GET", f"/v1/volumes/{v['id']}/attachments/node-b")))
    nqn = NQN_PREFIX + v["id"]
    assert att["nqn"] == nqn and att["namespace_uuid"] == v["id"]
    s = subsystems(target)[nqn]
    assert [h["nqn"] for h in s["hosts"]] == [consumer.host_nqn]
    assert s["allow_any_host"] is False
    assert [ns["uuid"] for ns in s["namespaces"]] == [v["id"]]

    # QoS online.
    ctl.ok("PUT", f"/v1/volumes/{v['id']}/qos", {"rw_ios_per_sec": 4000}, token="csi")
    poll_until(lambda: bdevs(target)["slio-" + v["id"]]["assigned_rate_limits"]
               ["rw_ios_per_sec"] == 4000, 30, "QoS applied")

    # Expansion: the file and the bdev grow.
    ctl.ok("POST", f"/v1/volumes/{v['id']}/expand", {"size": 32 * MiB}, token="csi")
    ctl.wait_for("expanded", lambda: (
        lambda x: x["phase"] == "ready" and x["size"] == 32 * MiB)(
            ctl.ok("GET", f"/v1/volumes/{v['id']}")))
    assert os.path.getsize(v["device"]) == 32 * MiB
    b = bdevs(target)["slio-" + v["id"]]
    assert b["num_blocks"] * b["block_size"] == 32 * MiB

    # Snapshot and a clone from it.
    with open(v["device"], "r+b") as f:
        f.write(b"through-the-controller")
    snap = ctl.ok("POST", "/v1/snapshots", {"name": "snap-1", "volume": v["id"]}, token="csi")
    ctl.wait_for("snapshot ready", lambda: ctl.ok("GET", f"/v1/snapshots/{snap['id']}")
                 ["ready_to_use"])
    clone = create(ctl, "pvc-clone", 32 * MiB, source={"snapshot": snap["id"]})
    clone = phase(ctl, clone["id"], "ready")
    with open(clone["device"], "rb") as f:
        assert f.read(22) == b"through-the-controller"

    # Detach and delete everything: files, subsystem and bdev go.
    ctl.ok("DELETE", f"/v1/volumes/{v['id']}/attachments/node-b", token="csi")
    poll_until(lambda: subsystems(target) == {} and bdevs(target) == {}, 30, "unexported")
    ctl.ok("DELETE", f"/v1/volumes/{clone['id']}", token="csi")
    phase(ctl, clone["id"], "gone")
    ctl.ok("DELETE", f"/v1/snapshots/{snap['id']}", token="csi")
    ctl.wait_for("snapshot gone", lambda: ctl.call("GET", f"/v1/snapshots/{snap['id']}")[0] == 404)
    ctl.ok("DELETE", f"/v1/volumes/{v['id']}", token="csi")
    phase(ctl, v["id"], "gone")
    assert agent.files() == []
    assert list((agent.pool_dir / "snapshots").glob("*.img")) == []


def test_kill9_mid_create_converges(tmp_path, target, ctl, consumer):
    d = tmp_path / "agent"
    d.mkdir()
    a = Agent(d, target, ctl, token_file=ctl.dir / "agent.token")
    a.start()
    try:
        ctl.wait_for("node n1", lambda: ctl.call("GET", "/v1/nodes/n1")[0] == 200, timeout=15)
        ids = [create(ctl, f"pvc-{i}", 4 * MiB)["id"] for i in range(40)]
        for vid in ids[::2]:
            ctl.ok("POST", f"/v1/volumes/{vid}/attachments", {"node": "node-b"}, token="csi")
        deadline = time.monotonic() + 30
        while len(a.files()) >= len(ids) or not a.files():
            if len(a.files()) >= len(ids):
                break  # too fast to catch; the restart below still must converge
            assert time.monotonic() < deadline, a.logtail()
            time.sleep(0.002)
        a.kill9()
        a.start()
        for vid in ids:
            phase(ctl, vid, "ready", timeout=60)
        assert a.files() == sorted(ids)
        assert set(subsystems(target)) == {NQN_PREFIX + vid for vid in ids[::2]}
        for vid in ids[::2]:
            ctl.wait_for("attachment ready", lambda: ctl.ok(
                "GET", f"/v1/volumes/{vid}/attachments/node-b")["phase"] == "ready")
        assert ctl.ok("GET", "/v1/orphans")["items"] == []
    finally:
        a.stop()


def test_orphan_listed_and_kept(agent, ctl, tmp_path):
    tool_conf = tmp_path / "tool.yaml"
    tool_conf.write_text(f"pool: {{name: p1, engine: file, file: {{dir: \"{agent.pool_dir}\", "
                         f"capacity: 20Gi}}}}\n")
    orphan = "0b9b7c4e-2f7a-4c1e-9d7e-5a1b2c3d4e5f"
    subprocess.run([binary("agent/engine/slio-engine-tool"), "-c", str(tool_conf), "create",
                    orphan, "4Mi"], check=True, capture_output=True, timeout=30)
    items = ctl.wait_for("orphan listed", lambda: ctl.ok("GET", "/v1/orphans")["items"],
                         timeout=30)
    assert [(o["uuid"], o["node"], o["pool"], o["kind"]) for o in items] == \
        [(orphan, "n1", "p1", "volume")]
    passes = agent.metric("sliteio_agent_reconcile_passes_total")
    poll_until(lambda: agent.metric("sliteio_agent_reconcile_passes_total") >= passes + 2, 30,
               "two more passes")
    assert agent.files() == [orphan]
