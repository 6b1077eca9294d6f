# SPDX-License-Identifier: Apache-2.0
"""Fixtures for the loopback integration tests: a real slio-tgt on a temp RPC
socket and a free 127.0.0.1 port, configured over JSON-RPC, and slio-perf as
the host. Binaries come from $SLIO_BUILD (default <repo>/build); a missing
binary FAILS the test with the command to build it (never a skip).
"""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SLIO_BUILD", REPO / "build"))
TGT_STOP_TIMEOUT = 15


def binary(rel):
    path = BUILD / rel
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not built: run `meson setup {BUILD} && ninja -C {BUILD}` "
                    f"(or set SLIO_BUILD to your build directory)", pytrace=False)
    return str(path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RpcError(Exception):
    def __init__(self, method, error):
        super().__init__(f"{method}: {error}")
        self.error = error


class Target:
    """One slio-tgt process. rpc() talks JSON-RPC 2.0 over its unix socket."""

    def __init__(self, workdir, port):
        self.dir = Path(workdir)
        self.port = port
        self.sock = str(self.dir / "tgt.sock")
        self.proc = None
        self.log = None
        self.starts = 0
        self._id = 0
        self.transport_created = False

    def start(self, config=None, reactors=2, extra=()):
        exe = binary("tgt/slio-tgt")
        self.starts += 1
        self.logpath = self.dir / f"tgt.{self.starts}.log"
        self.log = open(self.logpath, "w")
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        argv = [exe, "-r", self.sock, "--reactors", str(reactors), *extra]
        if config:
            argv += ["-c", str(config)]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"slio-tgt exited with {self.proc.returncode} at start:\n{self.logtail()}")
            try:
                self.rpc("spdk_get_version")
                self.transport_created = config is not None
                return self
            except (OSError, RpcError):
                time.sleep(0.05)
        pytest.fail(f"slio-tgt RPC socket {self.sock} not answering after 10 s:\n{self.logtail()}")

    def logtail(self, n=4000):
        try:
            return self.logpath.read_text()[-n:]
        except OSError:
            return ""

    def rpc(self, method, params=None, timeout=10):
        self._id += 1
        req = {"jsonrpc": "2.0", "method": method, "id": self._id}
        if params is not None:
            req["params"] = params
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall(json.dumps(req).encode())
            buf = b""
            dec = json.JSONDecoder()
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError(f"RPC {method}: connection closed before a full response")
                buf += chunk
                try:
                    resp, _ = dec.raw_decode(buf.decode())
                    break
                except ValueError:
                    continue
        if "error" in resp:
            raise RpcError(method, resp["error"])
        return resp.get("result")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; the target must exit 0 within TGT_STOP_TIMEOUT."""
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TGT_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"slio-tgt did not exit within {TGT_STOP_TIMEOUT} s of SIGTERM:\n"
                            f"{self.logtail()}")
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        assert rc == 0, f"slio-tgt exited with {rc}:\n{self.logtail()}"

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        self.log.close()

    # --- configuration helpers (SPDK method/param names) ---
    def export(self, nqn, path, size=32 << 20, bdev=None, hosts=None, block_size=512):
        """Backing file + aio bdev + subsystem + namespace + listener on self.port."""
        bdev = bdev or nqn.rsplit(":", 1)[-1]
        if not os.path.exists(path) or os.path.getsize(path) < size:
            with open(path, "ab") as f:
                f.truncate(size)
        self.rpc("bdev_aio_create", {"filename": str(path), "name": bdev, "block_size": block_size})
        if not self.transport_created:
            self.rpc("nvmf_create_transport", {"trtype": "TCP"})
            self.transport_created = True
        self.rpc("nvmf_create_subsystem", {"nqn": nqn, "serial_number": "SLIO" + bdev[-8:],
                                           "allow_any_host": hosts is None})
        self.rpc("nvmf_subsystem_add_ns", {"nqn": nqn, "namespace": {"bdev_name": bdev}})
        for h in hosts or []:
            self.rpc("nvmf_subsystem_add_host", {"nqn": nqn, "host": h})
        self.rpc("nvmf_subsystem_add_listener", {
            "nqn": nqn, "listen_address": {"trtype": "TCP", "adrfam": "IPv4",
                                           "traddr": "127.0.0.1", "trsvcid": str(self.port)}})
        return bdev


@pytest.fixture
def target(tmp_path):
    """A started slio-tgt; at teardown it must still be alive and exit 0 on SIGTERM."""
    t = Target(tmp_path, free_port())
    t.start()
    yield t
    if t.proc is not None:
        assert t.alive(), f"slio-tgt died during the test:\n{t.logtail()}"
        t.stop()


class Perf:
    def __init__(self, port):
        self.exe = binary("perf/slio-perf")
        self.port = port

    def argv(self, cmd, nqn=None, *args):
        a = [self.exe, cmd, "-a", "127.0.0.1", "-s", str(self.port)]
        if nqn:
            a += ["-n", nqn]
        return a + [str(x) for x in args]

    def run(self, cmd, nqn=None, *args, timeout=120):
        return subprocess.run(self.argv(cmd, nqn, *args), capture_output=True, text=True,
                              timeout=timeout)

    def start(self, cmd, nqn=None, *args):
        return subprocess.Popen(self.argv(cmd, nqn, *args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def json(self, cmd, nqn=None, *args, timeout=120, ok=True):
        r = self.run(cmd, nqn, *args, timeout=timeout)
        if ok:
            assert r.returncode == 0, f"slio-perf {cmd} failed ({r.returncode}):\n{r.stderr}"
        return json.loads(r.stdout) if r.stdout.strip() else None, r


@pytest.fixture
def perf(target):
    return Perf(target.port)


# --- waiting on events instead of sleeping (issue 17, finding 8) -----------------------------

def wait_until(cond, what, timeout=10.0):
    """Return once cond() is true; FAIL naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def target_stats(target):
    """Sums over slio-tgt's poll groups (nvmf_get_stats)."""
    groups = target.rpc("nvmf_get_stats")["poll_groups"]
    keys = ("completed_nvme_io", "current_io_qpairs", "current_admin_qpairs", "requests")
    return {k: sum(g[k] for g in groups) for k in keys}


def wait_for_io(target, at_least=1, timeout=10.0):
    """Wait until slio-tgt has completed `at_least` more commands than now (a load runs)."""
    base = target_stats(target)["completed_nvme_io"]
    wait_until(lambda: target_stats(target)["completed_nvme_io"] >= base + at_least,
               f"{at_least} completed commands on slio-tgt", timeout)


def require_or_allowed(present, env, what):
    """A missing facility FAILS the test unless env=1 says this machine is known to lack it."""
    if present:
        return
    if os.environ.get(env) == "1":
        pytest.skip(f"{what} unavailable and {env}=1")
    pytest.fail(f"{what} unavailable here (set {env}=1 to allow)")
