# SPDX-License-Identifier: Apache-2.0
"""slio-controller HA on etcd: a three-member etcd cluster on 127.0.0.1, two
controllers (store etcd, advertise_url), one leads and the other answers 503
not_leader naming it; a client that follows the leader streams creates; the
leader is SIGKILLed mid-stream; the standby must lead within 5 s, and every
acknowledged volume must exist exactly once, placed exactly once."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import free_port
from controller_proc import GiB, Agent, Controller

ETCD = os.environ.get("SLIO_ETCD", "/usr/bin/etcd")
TAKEOVER_MAX_S = 5.0
LEASE_TTL = "2s"


class EtcdCluster:
    """Three etcd members on 127.0.0.1 with free ports and their own data dirs."""

    def __init__(self, workdir, n=3):
        if not (shutil.which(ETCD) or os.access(ETCD, os.X_OK)):
            pytest.fail(f"{ETCD} is not installed (Debian: apt install etcd-server)", pytrace=False)
        self.dir = workdir
        self.members = [{"name": f"e{i}", "client": free_port(), "peer": free_port()}
                        for i in range(n)]
        self.procs = []
        self.logs = []

    @property
    def endpoints(self):
        return [f"http://127.0.0.1:{m['client']}" for m in self.members]

    def start(self, timeout=30):
        cluster = ",".join(f"{m['name']}=http://127.0.0.1:{m['peer']}" for m in self.members)
        for m in self.members:
            client, peer = f"http://127.0.0.1:{m['client']}", f"http://127.0.0.1:{m['peer']}"
            log = open(self.dir / f"etcd-{m['name']}.log", "w")
            self.logs.append(log)
            self.procs.append(subprocess.Popen([
                ETCD, "--name", m["name"], "--data-dir", str(self.dir / f"etcd-{m['name']}"),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                "--initial-cluster", cluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", "slio-ha"], stdout=log, stderr=subprocess.STDOUT))
        t0 = time.monotonic()
        for url in self.endpoints:
            while not self._healthy(url):
                if time.monotonic() - t0 > timeout:
                    pytest.fail(f"etcd member {url} not healthy after {timeout} s")
                if any(p.poll() is not None for p in self.procs):
                    pytest.fail("an etcd member exited at start (see etcd-*.log)")
                time.sleep(0.05)
        return self

    @staticmethod
    def _healthy(url):
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                return r.status == 200 and b'"true"' in r.read()
        except OSError:
            return False

    def raft_leader(self):
        """Index of the member that is etcd's raft leader now."""
        for i, url in enumerate(self.endpoints):
            req = urllib.request.Request(url + "/v3/maintenance/status", data=b"{}", method="POST")
            with urllib.request.urlopen(req, timeout=2) as r:
                st = json.loads(r.read())
            if st["leader"] == st["header"]["member_id"]:
                return i
        pytest.fail("no etcd member says it leads")

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        for log in self.logs:
            log.close()


class HaController(Controller):
    """A Controller on the etcd store; a standby answers /v1/health with 503, so serving
    means answering at all."""

    def __init__(self, workdir, etcd):
        workdir.mkdir()
        super().__init__(workdir)
        self.config["store"] = {"backend": "etcd", "etcd": {
            "endpoints": etcd.endpoints, "prefix": "/slio-ha/", "lease_ttl": LEASE_TTL}}
        self.config["advertise_url"] = self.url
        self.cfgpath.write_text(json.dumps(self.config))

    def start(self, timeout=15):
        self.spawn()
        self.wait_for("the controller to answer", self.health, timeout)
        return self

    def health(self):
        if self.proc.poll() is not None:
            pytest.fail(f"slio-controller exited with {self.proc.returncode}:\n{self.logtail()}")
        try:
            return self.call("GET", "/v1/health", token=None, timeout=1)[1]
        except OSError:
            return None

    def leads(self):
        h = self.health()
        return bool(h) and h.get("role") == "leader"


class LeaderFollower:
    """What a client with a list of controller URLs does: on no connection or 503
    not_leader, go to the named leader (when it is one of ours) or the next URL;
    on a broken-off call, send the same (idempotent) request again."""

    def __init__(self, ctls):
        self.ctls = ctls
        self.cur = 0
        self.lock = threading.Lock()

    def _move(self, leader=None):
        with self.lock:
            urls = [c.url for c in self.ctls]
            self.cur = urls.index(leader) if leader in urls else (self.cur + 1) % len(urls)

    def call(self, method, path, body, token="csi", deadline=30):
        t0 = time.monotonic()
        while time.monotonic() - t0 < deadline:
            ctl = self.ctls[self.cur]
            try:
                status, out = ctl.call(method, path, body, token=token, timeout=5)
            except OSError:
                self._move()
                time.sleep(0.02)
                continue
            if status == 503:
                err = out["error"]
                self._move(err.get("leader") if err["code"] == "not_leader" else ctl.url)
                time.sleep(0.02)
                continue
            return status, out
        pytest.fail(f"{method} {path}: no leader answered within {deadline} s")

    def ok(self, method, path, body=None, token="admin", want=(200, 201, 202, 204)):
        status, out = self.call(method, path, body, token=token)
        assert status in want, f"{method} {path}: {status} {out}"
        return out


@pytest.fixture
def etcd(tmp_path):
    cluster = EtcdCluster(tmp_path).start()
    yield cluster
    cluster.stop()


def list_all(ctl, path):
    items, cont = [], None
    while True:
        q = f"{path}?limit=500" + (f"&continue={cont}" if cont else "")
        page = ctl.ok("GET", q)
        items += page["items"]
        cont = page.get("continue")
        if not cont:
            return items


def wait_one_leader(ctls, timeout=10):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        leaders = [c for c in ctls if c.proc and c.leads()]
        assert len(leaders) <= 1, "two controllers lead at once"
        if leaders:
            return leaders[0]
        time.sleep(0.02)
    pytest.fail(f"no controller leads after {timeout} s")


def test_failover_under_creates_places_each_volume_once(tmp_path, etcd):
    a = HaController(tmp_path / "a", etcd).start()
    b = HaController(tmp_path / "b", etcd).start()
    try:
        leader = wait_one_leader([a, b])
        standby = b if leader is a else a
        status, out = standby.call("POST", "/v1/volumes", {"name": "x", "size": GiB}, token="csi")
        assert status == 503 and out["error"]["code"] == "not_leader", out
        assert out["error"]["leader"] == leader.url, out
        health = standby.health()
        assert health["role"] == "standby" and health["leader"] == leader.url, health

        client = LeaderFollower([a, b])  # agents follow the leader the same way
        for n in ("node-a", "node-b", "node-c"):
            Agent(client, n, pools=[{"name": "vg0", "engine": "lvm", "capacity": 1000 * GiB,
                                     "free": 1000 * GiB}]).register()
        acked, names, errors = {}, [], []
        lock = threading.Lock()

        def stream(k, count=30):
            for i in range(count):
                name = f"ha{k}-{i}"
                with lock:
                    names.append(name)
                status, body = client.call("POST", "/v1/volumes", {"name": name, "size": GiB})
                if status in (200, 201):
                    with lock:
                        acked[name] = body["id"]
                else:
                    errors.append((name, status, body))

        threads = [threading.Thread(target=stream, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        leader.wait_for("creates before the kill", lambda: len(acked) >= 30, 60)
        leader.kill9()
        killed_at = time.monotonic()
        new = wait_one_leader([standby], timeout=TAKEOVER_MAX_S + 5)
        took = time.monotonic() - killed_at
        print(f"standby leads {took:.2f} s after SIGKILL of the leader")
        assert took < TAKEOVER_MAX_S, f"takeover took {took:.2f} s"
        for t in threads:
            t.join(120)
        assert not errors, errors[:5]
        assert len(acked) == len(names) == 120

        vols = list_all(new, "/v1/volumes")
        by_name = {}
        for v in vols:
            assert v["name"] not in by_name, f"{v['name']} placed twice"
            by_name[v["name"]] = v
        assert set(by_name) == set(names)
        for name, vid in acked.items():
            assert by_name[name]["id"] == vid, f"acknowledged {name} {vid} lost or replaced"
        # placed exactly once: each volume is in exactly one node's desired state, once
        seen = {}
        for n in ("node-a", "node-b", "node-c"):
            desired = new.ok("GET", f"/v1/agent/nodes/{n}/desired", token="agent")
            for v in desired["volumes"]:
                assert v["id"] not in seen, f"volume {v['id']} on {seen.get(v['id'])} and {n}"
                seen[v["id"]] = n
        assert set(seen) == {v["id"] for v in vols}
        for v in vols:
            assert seen[v["id"]] == v["node"]
        # the new leader's view equals the store
        for p in new.ok("GET", "/v1/pools")["items"]:
            on = [v for v in vols if v["node"] == p["node"]]
            assert p["reserved"] == sum(v["size"] for v in on)
            assert p["volumes"] == len(on)

        # the old leader comes back as a standby that names the new leader
        leader.start()
        status, out = leader.call("POST", "/v1/volumes", {"name": "y", "size": GiB}, token="csi")
        assert status == 503 and out["error"]["leader"] == new.url, out
        # retried creates are idempotent on the new leader
        for name in names[:10]:
            status, body = client.call("POST", "/v1/volumes", {"name": name, "size": GiB})
            assert status == 200 and body["id"] == acked[name]
    finally:
        for c in (a, b):
            if c.proc:
                c.stop()


def test_etcd_member_loss_keeps_serving(tmp_path, etcd):
    """etcd's raft leader (one member of three) SIGKILLed under creates: the quorum stays
    and elects another raft leader, calls to the dead member go to the next endpoint,
    creates keep being acknowledged, each exactly once."""
    a = HaController(tmp_path / "a", etcd).start()
    b = HaController(tmp_path / "b", etcd).start()
    try:
        leader = wait_one_leader([a, b])
        client = LeaderFollower([a, b])
        Agent(client, "node-a", pools=[{"name": "vg0", "engine": "lvm", "capacity": 1000 * GiB,
                                        "free": 1000 * GiB}]).register()
        acked = {}
        for i in range(20):
            status, body = client.call("POST", "/v1/volumes", {"name": f"m{i}", "size": GiB})
            assert status == 201, body
            acked[body["name"]] = body["id"]
        dead = etcd.raft_leader()
        etcd.procs[dead].send_signal(signal.SIGKILL)
        etcd.procs[dead].wait()
        for i in range(20, 40):
            status, body = client.call("POST", "/v1/volumes", {"name": f"m{i}", "size": GiB})
            assert status == 201, body
            acked[body["name"]] = body["id"]
        now = wait_one_leader([a, b])
        vols = list_all(now, "/v1/volumes")
        assert sorted(v["name"] for v in vols) == sorted(acked)
        assert {v["name"]: v["id"] for v in vols} == acked
        print(f"leader before: {leader.url}, after: {now.url}")
    finally:
        for c in (a, b):
            if c.proc:
                c.stop()
