# SPDX-License-Identifier: Apache-2.0
"""A real slio-agent (file engine) beside the real slio-controller and a
target, for the tests that run one: test_agent.py, test_agent_dhchap.py,
test_csi_cluster.py, test_security_tls.py and tests/compat/test_agent_spdk.py
(with SPDK's nvmf_tgt as the target). Like controller_proc.py, a module of
helpers rather than a test module, so no test imports another's tests.

Its fixtures `ctl` (a controller in tmp_path/controller) and `consumer`
(node-b, a consumer node played over the agent API: only its host NQN
matters) are bound by name in the test module that uses them
(`ctl, consumer = agent_helpers.ctl, agent_helpers.consumer`)."""
import json
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import binary, free_port
from controller_proc import Agent as PlayedNode
from controller_proc import Controller

MiB = 1 << 20
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


def subsystems(target):
    return {s["nqn"]: s for s in target.rpc("nvmf_get_subsystems")
            if s["nqn"].startswith(NQN_PREFIX)}


def bdevs(target):
    return {b["name"]: b for b in target.rpc("bdev_get_bdevs") if b["name"].startswith("slio-")}


def poll_until(pred, timeout, what):
    """For states shown only by an endpoint (the controller's, the agent's, the target's)."""
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def attachment_ready(ctl, vid, node="node-b", agent=None, timeout=30):
    """The attachment of vid to node once ready (its record); on a timeout the
    failure shows the last record, the volume's, and the agent's log."""
    deadline = time.monotonic() + timeout
    while True:
        att = ctl.ok("GET", f"/v1/volumes/{vid}/attachments/{node}")
        if att["phase"] == "ready":
            return att
        if time.monotonic() > deadline:
            vol = ctl.call("GET", f"/v1/volumes/{vid}")[1]
            pytest.fail(f"attachment of {vid} to {node} not ready after {timeout} s: {att}\n"
                        f"volume: {vol}\n" + (f"agent log:\n{agent.logtail()}" if agent else ""))
        time.sleep(0.05)


def new_agent(tmp_path, target, ctl, **pool):
    """An Agent in tmp_path/agent (not started) with the controller's agent token."""
    d = tmp_path / "agent"
    d.mkdir()
    return Agent(d, target, ctl, token_file=ctl.dir / "agent.token", **pool)


def wait_node_ready(ctl, node="n1", timeout=15):
    ctl.wait_for(f"node {node} ready", lambda: ctl.call("GET", f"/v1/nodes/{node}")[0] == 200 and
                 ctl.ok("GET", f"/v1/nodes/{node}")["status"] == "ready", timeout=timeout)


@contextmanager
def running(a, ctl):
    """a started and its node ready; stopped at the end, which asserts it did not die
    meanwhile (a test that stopped it itself leaves a.proc None)."""
    a.start()
    wait_node_ready(ctl)
    try:
        yield a
    finally:
        alive = a.proc is not None and a.proc.poll() is None
        if alive:
            a.stop()
    assert alive or a.proc is None, f"slio-agent died during the test:\n{a.logtail()}"


@pytest.fixture
def ctl(tmp_path):
    d = tmp_path / "controller"
    d.mkdir()
    c = Controller(d).start()
    yield c
    c.stop()


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
