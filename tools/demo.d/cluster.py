# SPDX-License-Identifier: Apache-2.0
"""The all-in-one cluster's layout and how each daemon is started and probed:
slio-controller (SQLite) on 127.0.0.1, per node (node-a on 127.0.0.2, node-b on
127.0.0.3) a slio-tgt with its own RPC socket and a slio-agent on the file
engine, and slio-csi (controller + node) as node-a. Configurations follow
docs/controller.md, docs/agent.md and docs/csi.md, the way
tests/integration/{controller_proc,test_agent,csi_helpers}.py start them.
"""
import json
import os
import secrets
import socket
import urllib.error
import urllib.request
import uuid
from pathlib import Path

NODES = (("node-a", "127.0.0.2"), ("node-b", "127.0.0.3"))
CTL_ADDR = "127.0.0.1"


class Rest:
    """The controller's REST API with one bearer token."""

    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, timeout=10):
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self.token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, {"error": {"message": text[:300].decode(errors="replace")}}

    def get(self, path):
        status, out = self.call("GET", path)
        if status != 200:
            raise OSError(f"GET {path}: HTTP {status}: {message(out)}")
        return out


def message(out):
    if isinstance(out, dict) and isinstance(out.get("error"), dict):
        return out["error"].get("message", "")
    return str(out)[:300]


def host_nqn(node):
    """A stable per-node host NQN (what nvme-cli's hostnqn file would hold)."""
    return f"nqn.2014-08.org.nvmexpress:uuid:{uuid.uuid5(uuid.NAMESPACE_DNS, node + '.slio-demo')}"


def tgt_rpc_ok(sock):
    """slio-tgt answers spdk_get_version on its RPC socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        s.connect(str(sock))
        s.sendall(b'{"jsonrpc":"2.0","method":"spdk_get_version","id":1}')
        return b'"result"' in s.recv(65536)


class Cluster:
    def __init__(self, sup, build, ports, pool_size="4Gi"):
        self.sup, self.build, self.ports, self.pool_size = sup, Path(build), ports, pool_size
        self.root = sup.root
        self.url = f"http://{CTL_ADDR}:{ports['controller']}"
        self.tokens = {}
        self.csi_sock = self.root / "run" / "csi.sock"

    def bin(self, rel):
        return self.build / rel

    # --- controller ---
    def start_controller(self):
        d = self.root / "controller"
        d.mkdir()
        tokdir = self.root / "tokens"
        tokdir.mkdir(mode=0o700)
        for scope in ("admin", "csi", "agent", "readonly"):
            self.tokens[scope] = tokdir / scope
            self.tokens[scope].write_text(f"{scope}-{secrets.token_hex(16)}\n")
            self.tokens[scope].chmod(0o600)
        cfg = {
            "listen": {"address": CTL_ADDR, "port": self.ports["controller"]},
            "store": {"backend": "sqlite", "path": str(d / "state.db")},
            "tokens": {s: str(p) for s, p in self.tokens.items()},
            "heartbeat_interval": "1s", "unknown_after": "10s", "offline_after": "30s",
        }
        conf = d / "controller.json"
        conf.write_text(json.dumps(cfg, indent=2))
        daemon = self.sup.start("controller", [self.bin("controller/slio-controller"), "-c", conf])
        self.admin = Rest(self.url, self.token("admin"))
        self.csi_rest = Rest(self.url, self.token("csi"))
        self.sup.wait_ready(daemon, f"answer on {self.url}/v1/health",
                            lambda: self.admin.call("GET", "/v1/health", timeout=1)[0] == 200)
        return daemon

    def token(self, scope):
        return self.tokens[scope].read_text().strip()

    # --- per node: target and agent ---
    def node_dir(self, node):
        return self.root / node

    def tgt_sock(self, node):
        return self.root / "run" / f"tgt-{node}.sock"

    def start_target(self, node):
        self.node_dir(node).mkdir(exist_ok=True)
        sock = self.tgt_sock(node)
        daemon = self.sup.start(f"tgt-{node}", [self.bin("tgt/slio-tgt"), "-r", sock,
                                                "--reactors", "1"])
        self.sup.wait_ready(daemon, f"JSON-RPC on {sock}", lambda: tgt_rpc_ok(sock))
        return daemon

    def start_agent(self, node, addr):
        d = self.node_dir(node)
        conf = d / "agent.yaml"
        conf.write_text(f"""# slio-agent of the demo's {node}
node:
  name: {node}
  host_nqn: "{host_nqn(node)}"
  zone: demo
listen: {{address: {addr}, port: {self.ports['agent']}}}
export: {{traddr: {addr}, trsvcid: {self.ports['nvme']}}}
controller:
  urls: ["{self.url}"]
  token_file: "{self.tokens['agent']}"
  long_poll: 5s
  retry: 200ms
target: {{socket: "{self.tgt_sock(node)}", timeout: 10s}}
reconcile: {{workers: 2, resync: 10s}}
pool:
  name: pool-{node}
  engine: file
  file: {{dir: "{d / 'pool'}", capacity: {self.pool_size}}}
""")
        daemon = self.sup.start(f"agent-{node}", [self.bin("agent/slio-agent"), "-c", conf])
        self.sup.wait_ready(daemon, f"registration of {node} with the controller",
                            lambda: self.node_ready(node))
        return daemon

    def node_ready(self, node):
        status, out = self.admin.call("GET", f"/v1/nodes/{node}", timeout=2)
        return status == 200 and out.get("status") == "ready"

    # --- CSI as node-a ---
    def start_csi(self, node):
        d = self.node_dir(node) / "csi"
        nvme = d / "nvme"
        nvme.mkdir(parents=True)
        (nvme / "hostnqn").write_text(host_nqn(node) + "\n")
        (nvme / "hostid").write_text(host_nqn(node).rsplit(":", 1)[1] + "\n")
        daemon = self.sup.start("csi", [
            self.bin("csi/slio-csi"), "--mode", "all", "--endpoint", f"unix://{self.csi_sock}",
            "--controller", self.url, "--token-file", self.tokens["csi"], "--node-id", node,
            "--zone", "demo", "--state-dir", d, "--host-nqn-dir", nvme])
        self.sup.wait_ready(daemon, f"gRPC socket {self.csi_sock}", self.csi_sock.exists)
        return daemon

    def slioctl(self):
        p = self.bin("cli/slioctl")
        return p if os.access(p, os.X_OK) else None
