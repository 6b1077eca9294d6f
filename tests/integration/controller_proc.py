# SPDX-License-Identifier: Apache-2.0
"""A real slio-controller on 127.0.0.1 with a temp SQLite file and token files,
a small JSON client, and a simulated agent that speaks the agent endpoints."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import binary, free_port

TOKENS = {
    "admin": "admin-token-0123456789abcdef",
    "csi": "csi-token-0123456789abcdef",
    "agent": "agent-token-0123456789abcdef",
    "readonly": "readonly-token-0123456789abcdef",
}
GiB = 1 << 30


class Controller:
    def __init__(self, workdir, **config):
        self.dir = Path(workdir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.starts = 0
        tokens = {}
        for scope, tok in TOKENS.items():
            p = self.dir / f"{scope}.token"
            p.write_text(tok + "\n")
            tokens[scope] = str(p)
        self.config = {
            "listen": {"address": "127.0.0.1", "port": self.port},
            "store": {"backend": "sqlite", "path": str(self.dir / "state.db")},
            "tokens": tokens,
            "heartbeat_interval": "1s",
            "unknown_after": "30s",
            "offline_after": "60s",
        }
        self.config.update(config)
        self.cfgpath = self.dir / "controller.json"
        self.cfgpath.write_text(json.dumps(self.config))

    def spawn(self):
        """Launch slio-controller on the config, its output in controller.<n>.log."""
        exe = binary("controller/slio-controller")
        self.starts += 1
        self.logpath = self.dir / f"controller.{self.starts}.log"
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen([exe, "-c", str(self.cfgpath)], stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def start(self, timeout=15):
        self.spawn()
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                pytest.fail(f"slio-controller exited with {self.proc.returncode}:\n{self.logtail()}")
            try:
                status, _ = self.call("GET", "/v1/health", token=None, timeout=1)
                if status == 200:
                    self.start_seconds = time.monotonic() - t0
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        pytest.fail(f"slio-controller not serving after {timeout} s:\n{self.logtail()}")

    def logtail(self, n=4000):
        try:
            return self.logpath.read_text()[-n:]
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail("slio-controller ignored SIGTERM for 15 s")
            assert rc == 0, f"slio-controller exited {rc}:\n{self.logtail()}"
        self.proc = None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def call(self, method, path, body=None, token="admin", timeout=30, raw=None):
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            text = e.read()
            status = e.code
        if not text:
            return status, None
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.decode()

    def ok(self, method, path, body=None, token="admin", want=(200, 201, 202, 204)):
        status, out = self.call(method, path, body, token)
        assert status in want, f"{method} {path}: {status} {out}"
        return out

    def error(self, method, path, body=None, token="admin", status=400, code=None, raw=None):
        got, out = self.call(method, path, body, token, raw=raw)
        assert got == status, f"{method} {path}: want {status}, got {got} {out}"
        assert set(out) == {"error"}, out
        if code:
            assert out["error"]["code"] == code, out
        return out["error"]["message"]

    def wait_for(self, what, fn, timeout=10):
        t0 = time.monotonic()
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() - t0 > timeout:
                pytest.fail(f"timed out waiting for {what}")
            time.sleep(0.05)


class Agent:
    """Plays one node's agent over the agent endpoints."""

    def __init__(self, ctl, node, pools=None, rack=None, zone=None, thin=False):
        self.ctl = ctl
        self.node = node
        self.host_nqn = f"nqn.2014-08.org.nvmexpress:uuid:{node_uuid(node)}"
        self.pools = pools or [{"name": "vg0", "engine": "lvm", "capacity": 100 * GiB,
                                "free": 100 * GiB, "thin": thin}]
        self.topology = {k: v for k, v in (("rack", rack), ("zone", zone)) if v}

    def register(self):
        return self.ctl.ok("POST", "/v1/agent/register", {
            "node": self.node, "host_nqn": self.host_nqn, "topology": self.topology,
            "export_address": {"traddr": "127.0.0.9", "trsvcid": "4420"},
            "agent_url": "http://127.0.0.9:8361", "version": "test", "pools": self.pools,
        }, token="agent")

    def heartbeat(self):
        return self.ctl.ok("POST", "/v1/agent/heartbeat", {"node": self.node}, token="agent")

    def desired(self, revision=None, wait=None):
        q = []
        if revision is not None:
            q.append(f"revision={revision}")
        if wait:
            q.append(f"wait={wait}")
        path = f"/v1/agent/nodes/{self.node}/desired" + ("?" + "&".join(q) if q else "")
        return self.ctl.ok("GET", path, token="agent")

    def report(self, volumes=(), snapshots=(), orphans=None, partial=True):
        body = {"node": self.node, "partial": partial, "volumes": list(volumes),
                "snapshots": list(snapshots)}
        if orphans is not None:
            body["orphans"] = orphans
        self.ctl.ok("POST", f"/v1/agent/nodes/{self.node}/status", body, token="agent")

    def reconcile(self, exported=True):
        """One pass: make every desired volume ready (or gone), report all of it."""
        d = self.desired()
        vols, snaps = [], []
        for v in d["volumes"]:
            if v["state"] == "absent":
                vols.append({"id": v["id"], "state": "deleted"})
            else:
                vols.append({"id": v["id"], "state": "ready", "size": v["size"],
                             "device": f"/dev/{v['pool']}/{v['id']}",
                             "exported_to": [e["host_nqn"] for e in v["exports"]] if exported else []})
        for s in d["snapshots"]:
            snaps.append({"id": s["id"], "state": "deleted" if s["state"] == "absent" else "ready"})
        self.report(vols, snaps, partial=False, orphans=[])
        return d


def node_uuid(node):
    import uuid
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, node))
