# SPDX-License-Identifier: Apache-2.0
"""slio-agent on the file engine + a real slio-tgt + the controller's agent
API (tests/integration/fake_controller.py, a test double of /v1/agent/*):
registration, volumes as files, remote exports in slio-tgt (NQN, namespace
UUID, allowed host), QoS, expansion, deletion, kill -9 mid-create, orphans,
controller outage, /metrics under promtool.
"""
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from conftest import binary, free_port
from fake_controller import FakeController

MiB = 1 << 20
HOST_X = "nqn.2024-01.io.slite:node:consumer-x"
HOST_Y = "nqn.2024-01.io.slite:node:consumer-y"
NQN_PREFIX = "nqn.2024-01.io.slite:vol:"


class Agent:
    def __init__(self, tmp, target, ctl, token_file=None, **pool):
        self.dir = Path(tmp)
        self.pool_dir = self.dir / "pool"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf = self.dir / "agent.yaml"
        self.proc = None
        self.starts = 0
        token_line = f'\n  token_file: "{token_file}"' if token_file else ""
        self.conf.write_text(f"""# slio-agent test config
node:
  name: n1
  host_nqn: "nqn.2024-01.io.slite:node:n1"
  labels: {{zone-class: test}}
  zone: z1
listen: {{address: 127.0.0.1, port: {self.port}}}
export: {{traddr: 127.0.0.1, trsvcid: {target.port}}}
controller:
  urls: ["{ctl.url}"]{token_line}
  long_poll: 2s
  retry: 200ms
  timeout: 5s
target: {{socket: "{target.sock}", timeout: 10s}}
reconcile: {{workers: 2, resync: 1s, autoextend_interval: 1s}}
pool:
  name: p1
  engine: file
  file: {{dir: "{self.pool_dir}", capacity: {pool.get("capacity", "20Gi")}}}
""")

    def start(self):
        self.starts += 1
        self.logpath = self.dir / f"agent.{self.starts}.log"
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([binary("agent/slio-agent"), "-c", str(self.conf)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "SLIO_LOG_LEVEL": "debug"})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"slio-agent exited at start:\n{self.logtail()}"
            try:
                self.healthz()
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"slio-agent not answering on {self.url}:\n{self.logtail()}")

    def logtail(self, n=6000):
        try:
            return self.logpath.read_text()[-n:]
        except OSError:
            return ""

    def get(self, path, timeout=10):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return r.status, r.read().decode()

    def healthz(self):
        status, body = self.get("/healthz", timeout=2)
        assert status == 200
        return json.loads(body)

    def metrics(self):
        status, body = self.get("/metrics")
        assert status == 200
        return body

    def metric(self, name):
        for line in self.metrics().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()
        self.proc = None

    def stop(self):
        if not self.proc:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"slio-agent did not exit within 20 s of SIGTERM:\n{self.logtail()}")
        self.log.close()
        self.proc = None
        assert rc == 0, f"slio-agent exited with {rc}:\n{self.logtail()}"

    def files(self):
        d = self.pool_dir / "volumes"
        return sorted(p.stem for p in d.glob("*.img")) if d.exists() else []


@pytest.fixture
def ctl():
    c = FakeController(free_port()).start()
    yield c
    c.stop()


@pytest.fixture
def agent(tmp_path, target, ctl):
    a = Agent(tmp_path, target, ctl)
    a.start()
    ctl.wait(lambda: ctl.registrations, 15, "registration")
    yield a
    alive = a.proc is not None and a.proc.poll() is None
    a.stop() if alive else None
    assert alive or a.proc is None, f"slio-agent died during the test:\n{a.logtail()}"


def subsystems(target):
    return {s["nqn"]: s for s in target.rpc("nvmf_get_subsystems") if s["nqn"].startswith(NQN_PREFIX)}


def bdevs(target):
    return {b["name"]: b for b in target.rpc("bdev_get_bdevs") if b["name"].startswith("slio-")}


def poll_until(pred, timeout, what):
    """For conditions only the agent's endpoints show (no event reaches the test)."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def new_id():
    return str(uuid.uuid4())


def test_register_carries_node_and_pool(agent, ctl, target):
    reg = ctl.registrations[0]
    assert reg["node"] == "n1"
    assert reg["host_nqn"] == "nqn.2024-01.io.slite:node:n1"
    assert reg["export_address"] == {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                                     "trsvcid": str(target.port)}
    assert reg["topology"] == {"zone": "z1"}
    assert reg["labels"] == {"zone-class": "test"}
    assert reg["agent_url"] == agent.url
    pool = reg["pools"][0]
    assert pool["name"] == "p1" and pool["engine"] == "file"
    assert pool["capacity"] == 20 << 30 and 0 < pool["free"] <= 20 << 30
    ctl.wait(lambda: ctl.heartbeats >= 2, 10, "two heartbeats")
    assert not ctl.bad_requests


def test_volume_lifecycle_local_and_remote(agent, ctl, target):
    local, remote = new_id(), new_id()
    ctl.put_volume(local, 16 * MiB)
    ctl.put_volume(remote, 16 * MiB, hosts=[HOST_X], qos={"rw_ios_per_sec": 2000})
    r = ctl.wait_states({local: "ready", remote: "ready"})

    # Volumes are files of the asked size.
    assert agent.files() == sorted([local, remote])
    st = ctl.status_of(local, r)
    assert os.path.getsize(st["device"]) == 16 * MiB
    assert "nqn" not in st
    # The remote one is exported to HOST_X only, namespace UUID = volume id.
    st = ctl.status_of(remote, r)
    nqn = NQN_PREFIX + remote
    assert st["nqn"] == nqn and st["exported_to"] == [HOST_X]
    subs = subsystems(target)
    assert list(subs) == [nqn]
    s = subs[nqn]
    assert s["allow_any_host"] is False
    assert [h["nqn"] for h in s["hosts"]] == [HOST_X]
    assert [ns["uuid"] for ns in s["namespaces"]] == [remote]
    assert [(la["traddr"], la["trsvcid"]) for la in s["listen_addresses"]] == \
        [("127.0.0.1", str(target.port))]
    b = bdevs(target)["slio-" + remote]
    assert b["assigned_rate_limits"]["rw_ios_per_sec"] == 2000
    assert b["num_blocks"] * b["block_size"] == 16 * MiB

    # QoS changes online; the consumer moves to another host.
    ctl.put_volume(remote, 16 * MiB, hosts=[HOST_Y], qos={"rw_ios_per_sec": 3000,
                                                          "w_mbytes_per_sec": 10})
    ctl.wait(lambda: (ctl.status_of(remote) or {}).get("exported_to") == [HOST_Y] and
             ctl.last_report()["revision"] == ctl.revision, 30, "export moved to HOST_Y")
    b = bdevs(target)["slio-" + remote]
    assert b["assigned_rate_limits"]["rw_ios_per_sec"] == 3000
    assert b["assigned_rate_limits"]["w_mbytes_per_sec"] == 10
    assert [h["nqn"] for h in subsystems(target)[nqn]["hosts"]] == [HOST_Y]

    # Expansion grows the file and the bdev.
    ctl.put_volume(remote, 48 * MiB, hosts=[HOST_Y], qos={"rw_ios_per_sec": 3000,
                                                          "w_mbytes_per_sec": 10})
    ctl.wait(lambda: (ctl.status_of(remote) or {}).get("size") == 48 * MiB and
             ctl.last_report()["revision"] == ctl.revision, 30, "expanded")
    assert os.path.getsize(ctl.status_of(remote)["device"]) == 48 * MiB
    b = bdevs(target)["slio-" + remote]
    assert b["num_blocks"] * b["block_size"] == 48 * MiB

    # Deleting removes the files, the subsystem and the bdev.
    ctl.put_volume(local, 16 * MiB, state="absent")
    ctl.put_volume(remote, 48 * MiB, state="absent", hosts=[HOST_Y])
    ctl.wait_states({local: "deleted", remote: "deleted"})
    assert agent.files() == []
    assert subsystems(target) == {} and bdevs(target) == {}
    assert not ctl.bad_requests


def test_unexport_when_consumer_leaves(agent, ctl, target):
    v = new_id()
    ctl.put_volume(v, 16 * MiB, hosts=[HOST_X])
    ctl.wait_states({v: "ready"})
    assert NQN_PREFIX + v in subsystems(target)
    ctl.put_volume(v, 16 * MiB)
    r = ctl.wait_states({v: "ready"})
    assert "nqn" not in ctl.status_of(v, r)
    assert subsystems(target) == {} and bdevs(target) == {}
    assert agent.files() == [v]


def test_snapshot_and_clone(agent, ctl, target):
    v, s, c = new_id(), new_id(), new_id()
    ctl.put_volume(v, 16 * MiB)
    ctl.wait_states({v: "ready"})
    dev = ctl.status_of(v)["device"]
    with open(dev, "r+b") as f:
        f.write(b"slio-snapshot-data")
    ctl.put_snapshot(s, v)
    ctl.put_volume(c, 16 * MiB, source={"snapshot": s})
    r = ctl.wait_states({v: "ready", s: "ready", c: "ready"})
    with open(ctl.status_of(c, r)["device"], "rb") as f:
        assert f.read(18) == b"slio-snapshot-data"
    ctl.put_volume(c, 16 * MiB, state="absent", source={"snapshot": s})
    ctl.put_snapshot(s, v, state="absent")
    ctl.put_volume(v, 16 * MiB, state="absent")
    ctl.wait_states({v: "deleted", s: "deleted", c: "deleted"})
    assert agent.files() == []


def test_kill9_mid_create_converges(tmp_path, target, ctl):
    a = Agent(tmp_path, target, ctl)
    ids = [new_id() for _ in range(60)]
    for i, v in enumerate(ids):
        ctl.put_volume(v, 4 * MiB, hosts=[HOST_X] if i % 2 else [])
    a.start()
    # Kill it once some, not all, volumes exist.
    deadline = time.monotonic() + 30
    while not (0 < len(a.files()) < len(ids)):
        assert time.monotonic() < deadline, f"no partial state seen:\n{a.logtail()}"
        assert a.proc.poll() is None, a.logtail()
        time.sleep(0.002)
    a.kill9()
    partial = len(a.files())
    a.start()
    try:
        r = ctl.wait_states({v: "ready" for v in ids}, timeout=60)
        assert partial < len(ids)
        assert a.files() == sorted(ids)
        assert r["orphans"] == []
        exported = {NQN_PREFIX + v for i, v in enumerate(ids) if i % 2}
        assert set(subsystems(target)) == exported
        assert set(bdevs(target)) == {"slio-" + v for i, v in enumerate(ids) if i % 2}
        for nqn, s in subsystems(target).items():
            assert [h["nqn"] for h in s["hosts"]] == [HOST_X]
            assert [ns["uuid"] for ns in s["namespaces"]] == [nqn[len(NQN_PREFIX):]]
        # no leftovers of interrupted writes in the pool
        stray = [p.name for p in (a.pool_dir / "volumes").iterdir()
                 if not (p.name.endswith(".img") or p.name.endswith(".json"))]
        assert stray == []
    finally:
        a.stop()


def test_orphan_reported_never_removed(agent, ctl, target):
    kept, orphan = new_id(), new_id()
    ctl.put_volume(kept, 8 * MiB)
    ctl.put_volume(orphan, 8 * MiB, hosts=[HOST_X])
    ctl.wait_states({kept: "ready", orphan: "ready"})
    ctl.forget(orphan)  # the controller lost its record
    r = ctl.wait(lambda: ctl.last_report()["revision"] == ctl.revision and
                 ctl.last_report()["orphans"] and ctl.last_report(), 30, "orphan report")
    (o,) = r["orphans"]
    assert o["uuid"] == orphan and o["kind"] == "volume" and o["pool"] == "p1"
    assert o["size"] == 8 * MiB and o["node"] == "n1"
    assert ctl.status_of(orphan, r) is None
    # Still there several passes later: file and export.
    passes = agent.metric("sliteio_agent_reconcile_passes_total")
    poll_until(lambda: agent.metric("sliteio_agent_reconcile_passes_total") >= passes + 2, 30,
               "two more passes")
    assert agent.files() == sorted([kept, orphan])
    assert NQN_PREFIX + orphan in subsystems(target)
    assert agent.metric("sliteio_pool_orphans") == 1


def test_controller_down_deletes_nothing(agent, ctl, target):
    ids = [new_id(), new_id()]
    ctl.put_volume(ids[0], 8 * MiB)
    ctl.put_volume(ids[1], 8 * MiB, hosts=[HOST_X])
    ctl.wait_states({v: "ready" for v in ids})
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
    poll_until(lambda: (agent.metric("sliteio_pool_local_volumes") or 0) == 2, 30,
               "the restarted agent sees its volumes")
    passes = agent.metric("sliteio_agent_reconcile_passes_total")
    poll_until(lambda: agent.metric("sliteio_agent_reconcile_passes_total") >= passes + 2, 30,
               "two passes after the restart")
    assert agent.files() == sorted(ids)
    assert set(subsystems(target)) == {NQN_PREFIX + ids[1]}
    assert agent.metric("sliteio_pool_remote_volumes") == 1
    # Back: the same state converges, still nothing lost.
    ctl.start()
    poll_until(lambda: agent.healthz()["controller"] is True, 30, "agent sees the controller")
    n = len(ctl.reports)
    ctl.wait(lambda: len(ctl.reports) > n, 30, "a report after the outage")
    ctl.wait_states({v: "ready" for v in ids})
    assert agent.files() == sorted(ids)


def test_metrics_pass_promtool(agent, ctl, target):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed (Debian package prometheus): cannot check /metrics"
    v = new_id()
    ctl.put_volume(v, 8 * MiB, hosts=[HOST_X])
    ctl.wait_states({v: "ready"})
    text = agent.metrics()
    res = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, f"promtool: {res.stdout}{res.stderr}\n{text[:3000]}"
    for name in ("sliteio_pool_capacity_bytes", "sliteio_pool_free_bytes",
                 "sliteio_pool_allocated_bytes", "sliteio_pool_local_volumes",
                 "sliteio_pool_remote_volumes", "sliteio_agent_heartbeats_total",
                 "sliteio_agent_reconcile_errors_total",
                 "sliteio_agent_engine_operation_seconds_bucket",
                 "sliteio_agent_target_rpc_seconds_count"):
        assert agent.metric(name) is not None, f"{name} missing:\n{text}"
    assert agent.metric("sliteio_pool_capacity_bytes") == 20 << 30
    assert agent.metric("sliteio_pool_remote_volumes") == 1
    assert f'sliteio_volume_read_ops_total{{volume="{v}",via="target"}}' in text


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
