# SPDX-License-Identifier: Apache-2.0
"""slio-agent on the file engine with the real slio-controller and a real
slio-tgt: registration, volumes created through the REST API and carved as
files, remote exports in slio-tgt (NQN, namespace UUID, the consumer's host
NQN only), QoS, expansion, snapshots and clones, deletion, kill -9 of the
agent mid-create, an orphan listed and kept, the controller down (nothing
deleted, even across an agent restart), /metrics under promtool, a bad
config refused. Consumer nodes are played over the agent API
(controller_proc.Agent): only their host NQNs matter here.
"""
import os
import shutil
import signal
import subprocess
import time

import pytest

import agent_helpers
from agent_helpers import (NQN_PREFIX, MiB, PlayedNode, attachment_ready, bdevs, create,
                           new_agent, phase, poll_until, running, subsystems)
from conftest import binary

ctl, consumer = agent_helpers.ctl, agent_helpers.consumer  # the shared fixtures


@pytest.fixture
def agent(tmp_path, target, ctl):
    with running(new_agent(tmp_path, target, ctl), ctl) as a:
        yield a


def test_register_pool_figures_heartbeats(agent, ctl, target):
    n = ctl.ok("GET", "/v1/nodes/n1")
    assert n["host_nqn"] == "nqn.2024-01.io.slite:node:n1"
    assert n["agent_url"] == agent.url
    assert n["topology"].get("zone") == "z1" and n["labels"] == {"zone-class": "test"}
    assert n["export_address"]["traddr"] == "127.0.0.1"
    assert n["export_address"]["trsvcid"] == str(target.port)
    (p,) = n["pools"]
    assert p["name"] == "p1" and p["engine"] == "file" and p["capacity"] == 20 << 30
    assert 0 < p["free"] <= 20 << 30
    poll_until(lambda: agent.metric("sliteio_agent_heartbeats_total") >= 2, 10,
               "two heartbeats accepted by the controller")
    assert agent.metric("sliteio_agent_heartbeat_errors_total") == 0
    assert agent.healthz()["registered"] is True


def test_lifecycle_through_the_api(agent, ctl, target, consumer):
    v = create(ctl, "pvc-1", 16 * MiB)
    assert v["node"] == "n1" and v["pool"] == "p1"
    v = phase(ctl, v["id"], "ready")
    assert os.path.getsize(v["device"]) == 16 * MiB
    assert agent.files() == [v["id"]]

    # Another node attaches: exported to its host NQN only.
    att = ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    assert not att["local"]
    att = attachment_ready(ctl, v["id"], agent=agent)
    nqn = NQN_PREFIX + v["id"]
    assert att["nqn"] == nqn and att["namespace_uuid"] == v["id"]
    s = subsystems(target)[nqn]
    assert [h["nqn"] for h in s["hosts"]] == [consumer.host_nqn]
    assert s["allow_any_host"] is False
    assert [ns["uuid"] for ns in s["namespaces"]] == [v["id"]]

    # The consumer moves: node-b detaches, node-c attaches; only node-c is allowed then.
    ctl.ok("DELETE", f"/v1/volumes/{v['id']}/attachments/node-b", token="csi")
    node_c = PlayedNode(ctl, "node-c", pools=[{"name": "small", "engine": "file",
                                                "capacity": MiB, "free": MiB}])
    node_c.register()
    ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-c"}, token="csi")
    ctl.wait_for("attachment on node-c ready", lambda: ctl.ok(
        "GET", f"/v1/volumes/{v['id']}/attachments/node-c")["phase"] == "ready")
    assert [h["nqn"] for h in subsystems(target)[nqn]["hosts"]] == [node_c.host_nqn]

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
    ctl.ok("DELETE", f"/v1/volumes/{v['id']}/attachments/node-c", token="csi")
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
    a = new_agent(tmp_path, target, ctl)
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
            attachment_ready(ctl, vid, agent=a)
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


def test_controller_down_deletes_nothing(agent, ctl, target, consumer):
    ids = [create(ctl, "pvc-a", 8 * MiB)["id"], create(ctl, "pvc-b", 8 * MiB)["id"]]
    ctl.ok("POST", f"/v1/volumes/{ids[1]}/attachments", {"node": "node-b"}, token="csi")
    for vid in ids:
        phase(ctl, vid, "ready")
    attachment_ready(ctl, ids[1], agent=agent)
    ctl.stop()
    poll_until(lambda: agent.healthz()["controller"] is False, 30, "agent sees the outage")
    passes = agent.metric("sliteio_agent_reconcile_passes_total")
    poll_until(lambda: agent.metric("sliteio_agent_reconcile_passes_total") >= passes + 3, 30,
               "three passes during the outage")
    assert agent.files() == sorted(ids)
    assert set(subsystems(target)) == {NQN_PREFIX + ids[1]}
    assert agent.metric("sliteio_agent_controller_up") == 0
    # Restarted (kill -9) while the controller is away: it finds everything, changes nothing.
    agent.kill9()
    agent.start()
    poll_until(lambda: agent.metric("sliteio_pool_local_volumes") == 2, 30,
               "the restarted agent sees its volumes")
    passes = agent.metric("sliteio_agent_reconcile_passes_total")
    poll_until(lambda: agent.metric("sliteio_agent_reconcile_passes_total") >= passes + 2, 30,
               "two passes after the restart")
    assert agent.files() == sorted(ids)
    assert set(subsystems(target)) == {NQN_PREFIX + ids[1]}
    assert agent.metric("sliteio_pool_remote_volumes") == 1
    # The controller back: same state, nothing lost.
    ctl.start()
    poll_until(lambda: agent.healthz()["controller"] is True, 30, "agent sees the controller")
    for vid in ids:
        assert phase(ctl, vid, "ready")["device"]
    assert agent.files() == sorted(ids)
    assert set(subsystems(target)) == {NQN_PREFIX + ids[1]}


def test_metrics_pass_promtool(agent, ctl, target, consumer):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed (Debian package prometheus): cannot check /metrics"
    v = create(ctl, "pvc-m", 8 * MiB)
    ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    attachment_ready(ctl, v["id"], agent=agent)
    poll_until(lambda: agent.metric("sliteio_pool_remote_volumes") == 1, 30, "remote count")
    text = agent.metrics()
    res = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, f"promtool: {res.stdout}{res.stderr}\n{text[:3000]}"
    for name in ("sliteio_pool_capacity_bytes", "sliteio_pool_free_bytes",
                 "sliteio_pool_allocated_bytes", "sliteio_pool_thin_data_ratio",
                 "sliteio_pool_overprovision_ratio", "sliteio_pool_local_volumes",
                 "sliteio_pool_remote_volumes", "sliteio_agent_heartbeats_total",
                 "sliteio_agent_heartbeat_errors_total", "sliteio_agent_reconcile_errors_total",
                 "sliteio_agent_engine_operation_seconds_bucket",
                 "sliteio_agent_target_rpc_seconds_count"):
        assert agent.metric(name) is not None, f"{name} missing:\n{text}"
    assert agent.metric("sliteio_pool_capacity_bytes") == 20 << 30
    assert agent.metric("sliteio_pool_local_volumes") == 1
    assert agent.metric("sliteio_agent_heartbeats_total") >= 1
    line = f'sliteio_volume_read_ops_total{{volume="{v["id"]}",via="target"}}'
    poll_until(lambda: line in agent.metrics(), 15, "the target's counters in /metrics")


def test_bad_config_refused_naming_field(tmp_path):
    conf = tmp_path / "bad.yaml"
    conf.write_text("node: {name: n1}\nexport: {traddr: 127.0.0.1, trsvcid: 99999}\n"
                    "controller: {urls: [\"http://127.0.0.1:1\"]}\n"
                    "pool: {name: p1, engine: file, file: {dir: /tmp/x, capacity: 1Gi}}\n")
    res = subprocess.run([binary("agent/slio-agent"), "-c", str(conf)], capture_output=True,
                         text=True, timeout=10)
    assert res.returncode == 1
    assert "export.trsvcid" in res.stderr and str(conf) in res.stderr
    res = subprocess.run([binary("agent/slio-agent"), "-c", str(conf), "--check-config"],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 1


def test_target_restart_is_reexported(agent, ctl, target, consumer):
    v = create(ctl, "pvc-t", 8 * MiB, qos={"rw_mbytes_per_sec": 50})
    ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    attachment_ready(ctl, v["id"], agent=agent)
    # slio-tgt killed and started again without its configuration: the agent's next pass
    # finds nothing in it and exports the volume again, transport included.
    target.kill9()
    target.start()
    nqn = NQN_PREFIX + v["id"]
    s = poll_until(lambda: (lambda x: x and x["namespaces"] and x["listen_addresses"] and x)(
        subsystems(target).get(nqn)), 30, "the export back in the target, complete")
    assert [h["nqn"] for h in s["hosts"]] == [consumer.host_nqn]
    assert [ns["uuid"] for ns in s["namespaces"]] == [v["id"]]
    poll_until(lambda: bdevs(target)["slio-" + v["id"]]["assigned_rate_limits"]
               ["rw_mbytes_per_sec"] == 50, 30, "QoS back")


def test_hung_target_delays_neither_heartbeats_nor_metrics(agent, ctl, target, consumer):
    v = create(ctl, "pvc-h", 8 * MiB)
    phase(ctl, v["id"], "ready")
    # The target stops answering (SIGSTOP) while the agent exports a volume: the pass
    # blocks in a JSON-RPC call for up to the target timeout (10 s here) ...
    target.proc.send_signal(signal.SIGSTOP)
    try:
        ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
        beats = agent.metric("sliteio_agent_heartbeats_total")
        t0 = time.monotonic()
        # ... yet heartbeats go on (interval 1 s) and /metrics and /healthz answer at once.
        while agent.metric("sliteio_agent_heartbeats_total") < beats + 3:
            assert time.monotonic() - t0 < 8, "heartbeats stalled behind a hung target"
            t1 = time.monotonic()
            agent.healthz()
            assert time.monotonic() - t1 < 1.0, "/healthz waited for the target"
            time.sleep(0.1)
        t1 = time.monotonic()
        agent.metrics()
        assert time.monotonic() - t1 < 1.0, "/metrics waited for the target"
        assert ctl.ok("GET", f"/v1/volumes/{v['id']}/attachments/node-b")["phase"] == "pending"
    finally:
        target.proc.send_signal(signal.SIGCONT)
    attachment_ready(ctl, v["id"], agent=agent, timeout=40)  # once the target answers
    assert NQN_PREFIX + v["id"] in subsystems(target)


def test_ready_volume_lost_by_hand_is_failed_not_recreated(agent, ctl):
    """A volume the pool lost after it was ready (an LV removed by hand) is
    reported failed with a reason; the agent never carves an empty one in its
    place, which a database would take for its data — not even after the
    controller marked it failed (the desired state says it was carved)."""
    vid = create(ctl, "lost", 4 * MiB)["id"]
    phase(ctl, vid, "ready")
    for p in (agent.pool_dir / "volumes").glob(f"{vid}*"):
        p.unlink()
    failed = phase(ctl, vid, "failed")
    assert "not recreated" in failed["message"], failed
    passes = agent.metric("sliteio_agent_reconcile_passes_total")
    poll_until(lambda: agent.metric("sliteio_agent_reconcile_passes_total") >= passes + 3, 30,
               "three more passes")
    assert vid not in agent.files()
    assert ctl.ok("GET", f"/v1/volumes/{vid}")["phase"] == "failed"
