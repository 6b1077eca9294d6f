# SPDX-License-Identifier: Apache-2.0
"""slio-agent (file engine, `target: {kind: spdk}`) driving SPDK's own
nvmf_tgt, with the real slio-controller: a volume attached to another node is
exported (one subsystem, namespace UUID = volume uuid, the consumer's host NQN
only, the node's listener), its QoS set and changed online (IOPS rounded up to
SPDK's multiple of 1000), expanded (engine, then bdev_aio_rescan: SPDK's bdev
grows), written and verified by slio-perf as the consumer host through SPDK's
target, rediscovered after a kill -9 of the agent (nothing sent twice, a
subsystem removed by hand meanwhile put back), then unexported (no subsystem,
no bdev left) and deleted.

Not part of `make test` (no SPDK in CI). Run by hand, docs/interop.md:

  SLIO_SPDK_BUILD=/path/to/spdk/build /usr/bin/python3 -m pytest -v tests/compat/test_agent_spdk.py

SLIO_SPDK_BUILD is SPDK's build/ directory (bin/nvmf_tgt, lib/); without it,
or without hugepages, the test FAILS. slio binaries come from $SLIO_BUILD
(default <repo>/build).
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests/integration"))
import agent_helpers  # noqa: E402
from agent_helpers import (MiB, NQN_PREFIX, bdevs, create, new_agent, phase,  # noqa: E402
                           poll_until, running, subsystems)
from conftest import binary, free_port  # noqa: E402

ctl, consumer = agent_helpers.ctl, agent_helpers.consumer  # the shared fixtures


class SpdkTarget:
    """SPDK's nvmf_tgt on a temp RPC socket; rpc() is JSON-RPC 2.0 over it."""

    def __init__(self, build, workdir):
        self.build = Path(build)
        self.dir = Path(workdir)
        self.sock = str(self.dir / "spdk.sock")
        self.port = free_port()
        self.proc = None

    def start(self):
        exe = self.build / "bin/nvmf_tgt"
        if not os.access(exe, os.X_OK):
            pytest.fail(f"{exe} is not built (SLIO_SPDK_BUILD={self.build})", pytrace=False)
        self.logpath = self.dir / "nvmf_tgt.log"
        self.log = open(self.logpath, "w")
        self.proc = subprocess.Popen(
            [str(exe), "-m", "0x1", "-s", "1024", "-r", self.sock, "--disable-cpumask-locks"],
            env={**os.environ, "LD_LIBRARY_PATH": str(self.build / "lib")},
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"nvmf_tgt exited with {self.proc.returncode} (hugepages?):\n"
                            f"{self.logtail()}", pytrace=False)
            try:
                self.version = self.rpc("spdk_get_version")["version"]
                return self
            except (OSError, RuntimeError):
                time.sleep(0.1)
        pytest.fail(f"nvmf_tgt not answering on {self.sock}:\n{self.logtail()}")

    def logtail(self, n=4000):
        return self.logpath.read_text()[-n:] if self.logpath.exists() else ""

    def rpc(self, method, params=None):
        import socket
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(self.sock)
            req = {"jsonrpc": "2.0", "id": 1, "method": method}
            if params is not None:
                req["params"] = params
            s.sendall(json.dumps(req).encode())
            buf, dec = b"", json.JSONDecoder()
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError(f"{method}: connection closed")
                buf += chunk
                try:
                    rsp, _ = dec.raw_decode(buf.decode())
                    break
                except json.JSONDecodeError:
                    continue
        if "error" in rsp:
            raise RuntimeError(f"{method}: {rsp['error']}")
        return rsp["result"]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def spdk(tmp_path):
    build = os.environ.get("SLIO_SPDK_BUILD")
    if not build:
        pytest.fail("SLIO_SPDK_BUILD is not set: point it at SPDK's build/ directory "
                    "(docs/interop.md)", pytrace=False)
    d = tmp_path / "spdk"
    d.mkdir()
    t = SpdkTarget(build, d).start()
    yield t
    alive = t.proc.poll() is None
    t.stop()
    assert alive, f"nvmf_tgt died during the test:\n{t.logtail()}"


def spdk_agent(tmp_path, spdk, ctl):
    a = new_agent(tmp_path, spdk, ctl)
    conf = a.conf.read_text()
    assert "target: {socket:" in conf
    a.conf.write_text(conf.replace("target: {socket:", "target: {kind: spdk, socket:"))
    return a


def perf_verify(spdk, nqn, hostnqn, size):
    """slio-perf as the consumer: write then read back every block of `size`."""
    r = subprocess.run([binary("perf/slio-perf"), "load", "-a", "127.0.0.1", "-s", str(spdk.port),
                        "-n", nqn, "--hostnqn", hostnqn, "-w", "verify", "-o", "4k", "-q", "16",
                        "--queues", "2", "--size", str(size), "--json"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, f"slio-perf failed ({r.returncode}):\n{r.stderr}"
    return json.loads(r.stdout)


def test_agent_exports_through_spdk(tmp_path, spdk, ctl, consumer):
    with running(spdk_agent(tmp_path, spdk, ctl), ctl) as a:
        run_lifecycle(a, spdk, ctl, consumer)


def run_lifecycle(a, spdk, ctl, consumer):
    v = phase(ctl, create(ctl, "pvc-spdk", 16 * MiB)["id"], "ready")
    vid, nqn, bdev = v["id"], NQN_PREFIX + v["id"], "slio-" + v["id"]

    # Export to node-b: one subsystem, its host only, namespace UUID = volume uuid.
    ctl.ok("POST", f"/v1/volumes/{vid}/attachments", {"node": "node-b"}, token="csi")
    att = ctl.wait_for("attachment ready", lambda: (
        lambda x: x["phase"] == "ready" and x)(
            ctl.ok("GET", f"/v1/volumes/{vid}/attachments/node-b")), timeout=30)
    assert att["nqn"] == nqn and att["namespace_uuid"] == vid
    s = subsystems(spdk)[nqn]
    assert [h["nqn"] for h in s["hosts"]] == [consumer.host_nqn]
    assert s["allow_any_host"] is False
    assert [(ns["nsid"], ns["bdev_name"], ns["uuid"]) for ns in s["namespaces"]] == \
        [(1, bdev, vid)]
    assert [(la["traddr"], la["trsvcid"]) for la in s["listen_addresses"]] == \
        [("127.0.0.1", str(spdk.port))]
    b = bdevs(spdk)[bdev]
    assert b["num_blocks"] * b["block_size"] == 16 * MiB
    release = tuple(int(x) for x in re.match(r"SPDK v(\d+)\.(\d+)", spdk.version).groups())
    if release >= (24, 9):  # bdev_aio_create takes "uuid" from v24.09 on
        assert b["uuid"] == vid

    # Data through SPDK's target, as the consumer host.
    res = perf_verify(spdk, nqn, consumer.host_nqn, 16 * MiB)
    assert res["errors"] == 0 and res["mismatches"] == 0
    assert res["verified_blocks"] == 16 * MiB // 512

    # QoS online; SPDK takes IOPS in thousands, the agent rounds up.
    ctl.ok("PUT", f"/v1/volumes/{vid}/qos", {"rw_ios_per_sec": 4000, "w_mbytes_per_sec": 50},
           token="csi")
    poll_until(lambda: (lambda q: q["rw_ios_per_sec"] == 4000 and q["w_mbytes_per_sec"] == 50)(
        bdevs(spdk)[bdev]["assigned_rate_limits"]), 30, "QoS 4000 IOPS applied in SPDK")
    ctl.ok("PUT", f"/v1/volumes/{vid}/qos", {"rw_ios_per_sec": 1500}, token="csi")
    poll_until(lambda: (lambda q: q["rw_ios_per_sec"] == 2000 and q["w_mbytes_per_sec"] == 0)(
        bdevs(spdk)[bdev]["assigned_rate_limits"]), 30, "QoS 1500 IOPS applied as 2000")

    # Expansion while exported: SPDK's bdev_aio_rescan grows the bdev.
    ctl.ok("POST", f"/v1/volumes/{vid}/expand", {"size": 32 * MiB}, token="csi")
    ctl.wait_for("expanded", lambda: (lambda x: x["phase"] == "ready" and x["size"] == 32 * MiB)(
        ctl.ok("GET", f"/v1/volumes/{vid}")), timeout=30)
    poll_until(lambda: (lambda b: b["num_blocks"] * b["block_size"] == 32 * MiB)(
        bdevs(spdk)[bdev]), 30, "SPDK's bdev grown to 32 MiB")
    res = perf_verify(spdk, nqn, consumer.host_nqn, 32 * MiB)
    assert res["errors"] == 0 and res["mismatches"] == 0
    assert res["verified_blocks"] == 32 * MiB // 512

    # kill -9, a subsystem removed by hand meanwhile: the restarted agent
    # rediscovers the bdev (not created twice) and puts the subsystem back.
    a.kill9()
    spdk.rpc("nvmf_delete_subsystem", {"nqn": nqn})
    a.start()
    s = poll_until(lambda: subsystems(spdk).get(nqn), 30, "subsystem re-created after restart")
    poll_until(lambda: subsystems(spdk)[nqn]["namespaces"] and
               subsystems(spdk)[nqn]["listen_addresses"], 30, "namespace and listener back")
    s = subsystems(spdk)[nqn]
    assert [h["nqn"] for h in s["hosts"]] == [consumer.host_nqn]
    assert [ns["uuid"] for ns in s["namespaces"]] == [vid]
    assert list(bdevs(spdk)) == [bdev]
    assert bdevs(spdk)[bdev]["assigned_rate_limits"]["rw_ios_per_sec"] == 2000
    v = ctl.ok("GET", f"/v1/volumes/{vid}")
    assert v["phase"] == "ready", v
    res = perf_verify(spdk, nqn, consumer.host_nqn, 32 * MiB)
    assert res["errors"] == 0 and res["mismatches"] == 0

    # Unexport and delete: nothing of the volume left in SPDK.
    ctl.ok("DELETE", f"/v1/volumes/{vid}/attachments/node-b", token="csi")
    poll_until(lambda: subsystems(spdk) == {} and bdevs(spdk) == {}, 30, "unexported from SPDK")
    ctl.ok("DELETE", f"/v1/volumes/{vid}", token="csi")
    phase(ctl, vid, "gone")
    assert a.files() == []
