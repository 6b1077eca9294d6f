# SPDX-License-Identifier: Apache-2.0
"""make demo, non-interactively: tools/demo in its CI mode (DEMO_DETACH=0) prints
every step, verified data, both load figures, the tables and the nvme connect
line, then stops everything; the staying-up mode is stopped by `tools/demo
--stop` (make demo-stop), by Ctrl-C, and after a kill -9 of its supervisor;
a failing step names itself and its log. After each: no process, socket or
file of the demo is left."""
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import BUILD, REPO, binary, free_port

DEMO = REPO / "tools" / "demo"
STEPS = 19


def demo_env(tmp_path, ctl_port=None):
    for exe in ("controller/slio-controller", "agent/slio-agent", "tgt/slio-tgt",
                "csi/slio-csi", "perf/slio-perf"):
        binary(exe)  # a missing binary fails the test, with the command to build it
    return {**os.environ, "DEMO_DIR": str(tmp_path / "demo"), "DEMO_SECONDS": "1",
            "DEMO_CTL_PORT": str(ctl_port or free_port()), "DEMO_AGENT_PORT": str(free_port()),
            "DEMO_NVME_PORT": str(free_port())}


def processes_of(root):
    """pids whose command line names the demo directory."""
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and p.name != str(os.getpid()):
            try:
                if str(root).encode() in (p / "cmdline").read_bytes():
                    found.append(int(p.name))
            except OSError:
                pass
    return found


def assert_nothing_left(root):
    assert not processes_of(root), f"processes left: {processes_of(root)}"
    assert not Path(root).exists(), f"left behind: {sorted(map(str, Path(root).rglob('*')))}"


def stop(env):
    r = subprocess.run([DEMO, "--stop"], env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return r.stdout


class Watchdog:
    """A demo that hangs fails its test, not the whole suite: after `seconds`
    the supervisor prints every thread's stack (SIGUSR1, into the output the
    test reads) and is killed, which ends the test's reads; `fired` says so."""

    def __init__(self, proc, seconds=180):
        self.proc, self.fired = proc, False
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True
        self.timer.start()

    def _expire(self):
        self.fired = True
        self.proc.send_signal(signal.SIGUSR1)
        time.sleep(1)
        self.proc.kill()

    def finish(self, expected_rc):
        """The rest of the output once the supervisor exits with expected_rc."""
        rest = self.proc.stdout.read()
        rc = self.proc.wait(timeout=30)
        self.timer.cancel()
        self.proc.stdout.close()
        assert not self.fired, f"the demo hung; its stacks and output:\n{rest}"
        assert expected_rc is None or rc == expected_rc, rest
        return rest


def start_demo(env):
    proc = subprocess.Popen([DEMO, str(BUILD)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    return proc, Watchdog(proc)


def start_staying_up(env):
    """tools/demo in its default mode; returns the process and its watchdog
    once it says it is up."""
    proc, dog = start_demo(env)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("SLiteIO demo is up"):
            return proc, dog
    rest = dog.finish(None)
    pytest.fail("the demo never came up:\n" + "".join(lines) + rest)


@pytest.fixture
def swept(tmp_path):
    """Whatever a failed test leaves of its demo, demo-stop removes."""
    yield
    if (tmp_path / "demo").exists():
        subprocess.run([DEMO, "--stop"], env={**os.environ, "DEMO_DIR": str(tmp_path / "demo")},
                       capture_output=True, timeout=180)


def test_demo_once(tmp_path, swept):
    env = demo_env(tmp_path)
    env["DEMO_DETACH"] = "0"
    r = subprocess.run([DEMO, str(BUILD)], env=env, capture_output=True, text=True, timeout=600)
    out = r.stdout
    assert r.returncode == 0, f"{out}\n{r.stderr}"
    for n in range(1, STEPS + 1):
        assert re.search(rf"^\[\s*{n}/{STEPS}\] .* ok \(", out, re.M), f"step {n}:\n{out}"
    assert "FAILED" not in out
    # data written and read back over NVMe/TCP and on the local file, no mismatch
    assert re.search(r"64 MiB written and read back \(131072 blocks of 512 B\), 0 mismatches", out)
    # both figures side by side, non-zero
    for wl in ("read", "write"):
        m = re.search(rf"^\s+{wl} IOPS\s+([\d,]+)\s+([\d,]+)\s+[\d.]+$", out, re.M)
        assert m, out
        assert all(int(x.replace(",", "")) > 0 for x in m.groups())
    # the volumes where the CSI requests put them, attached to node-a
    assert re.search(r"CreateVolume demo-local .*\n\s+[0-9a-f-]{36} on node-a/pool-node-a \(ready\)", out)
    assert re.search(r"CreateVolume demo-remote .*\n\s+[0-9a-f-]{36} on node-b/pool-node-b \(ready\)", out)
    assert re.search(r"local: the volume's own file \S+/node-a/pool/volumes/[0-9a-f-]{36}\.img", out)
    assert re.search(r"nqn\.2024-01\.io\.slite:vol:[0-9a-f-]{36} at 127\.0\.0\.3:", out)
    # the tables (slioctl's, or the same from the REST API) list both pools and volumes
    tables = out[out.index(f"[18/{STEPS}]"):out.index(f"[19/{STEPS}]")]
    for word in ("pool-node-a", "pool-node-b", "demo-local", "demo-remote"):
        assert word in tables, tables
    if "slioctl is not built" in tables:
        assert re.search(r"^\s+demo-remote\s+\S+\s+256Mi node-b\s+must_remote\s+ready\s+"
                         r"node-a\(nvme-tcp\)", tables, re.M), tables
    assert re.search(rf"^\s+nvme connect -t tcp -a 127\.0\.0\.3 -s {env['DEMO_NVME_PORT']} "
                     r"-n nqn\.2024-01\.io\.slite:vol:[0-9a-f-]{36} --hostnqn nqn\.2014-08\.org\."
                     r"nvmexpress:uuid:[0-9a-f-]{36} ", out, re.M), out
    assert "every process stopped" in out
    assert_nothing_left(env["DEMO_DIR"])


def test_demo_detached_until_demo_stop(tmp_path):
    """DEMO_DETACH=1: tools/demo returns once the demo is up; demo-stop ends it."""
    env = demo_env(tmp_path)
    env["DEMO_DETACH"] = "1"
    root = Path(env["DEMO_DIR"])
    try:
        r = subprocess.run([DEMO, str(BUILD)], env=env, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
        assert "SLiteIO demo is up" in r.stdout and "runs in the background" in r.stdout
        pids = processes_of(root)
        assert len(pids) == 7, pids  # supervisor, controller, 2 targets, 2 agents, slio-csi
        socks = sorted(p.name for p in (root / "run").iterdir() if p.is_socket())
        assert socks == ["csi.sock", "tgt-node-a.sock", "tgt-node-b.sock"]
        time.sleep(1)  # still up a moment later, and still serving
        assert sorted(processes_of(root)) == sorted(pids)
        with urllib.request.urlopen(f"http://127.0.0.1:{env['DEMO_CTL_PORT']}/v1/health") as h:
            assert h.status == 200
        # a second demo on the same directory is refused and leaves the first alone
        again = subprocess.run([DEMO, str(BUILD), "--once"], env=env, capture_output=True,
                               text=True, timeout=60)
        assert again.returncode == 1 and "a demo is already running" in again.stderr, again
        assert sorted(processes_of(root)) == sorted(pids)
        assert (root / "run" / "csi.sock").is_socket() and (root / "tokens" / "admin").exists()
        msg = stop(env)
        assert "is stopped" in msg, msg
        assert_nothing_left(root)
        assert "no demo was running" in stop(env)  # idempotent
    finally:
        if root.exists():
            stop(env)


def test_demo_ctrl_c(tmp_path, swept):
    env = demo_env(tmp_path)
    proc, dog = start_staying_up(env)
    proc.send_signal(signal.SIGINT)
    rest = dog.finish(130)
    assert "every process stopped" in rest
    assert_nothing_left(env["DEMO_DIR"])


def test_demo_ctrl_c_storm(tmp_path, swept):
    """Ctrl-C pressed again and again while the demo stops: the first one
    stops it, the others change nothing (a handler that raised could leave a
    lock taken anywhere, and the stop then hang)."""
    env = demo_env(tmp_path)
    proc, dog = start_staying_up(env)
    for _ in range(200):
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGINT)
        time.sleep(0.002)
    rest = dog.finish(130)
    assert rest.count("SIGINT received") == 1, rest
    assert "every process stopped" in rest
    assert_nothing_left(env["DEMO_DIR"])


def test_demo_stop_after_supervisor_kill9(tmp_path, swept):
    env = demo_env(tmp_path)
    proc, dog = start_staying_up(env)
    proc.kill()  # the supervisor dies; its daemons (own sessions) are orphans now
    dog.finish(-signal.SIGKILL)
    assert len(processes_of(env["DEMO_DIR"])) == 6
    assert "leftovers" in stop(env)
    assert_nothing_left(env["DEMO_DIR"])


@pytest.mark.parametrize("detach", ["0", "1"])
def test_demo_failure_names_step_and_log(tmp_path, detach, swept):
    with socket.socket() as busy:  # the controller's port is taken: step 3 must fail
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        env = demo_env(tmp_path, ctl_port=busy.getsockname()[1])
        env["DEMO_DETACH"] = detach
        r = subprocess.run([DEMO, str(BUILD)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stdout
    log = Path(env["DEMO_DIR"]) / "logs" / "controller.log"
    words = r.stdout + r.stderr  # detached: the supervisor's words come relayed on stdout
    assert f"demo: step 3/{STEPS} (slio-controller on 127.0.0.1:" in words, words
    assert f"read the log: {log}" in words
    assert log.read_text().strip(), "the named log is empty"
    assert not processes_of(env["DEMO_DIR"])
    assert "leftovers" in stop(env)
    assert_nothing_left(env["DEMO_DIR"])


def test_demo_daemon_death_stops_the_demo(tmp_path, swept):
    """A daemon that dies while the demo is up: the supervisor says which and
    where its log is, stops the rest and keeps only the logs."""
    env = demo_env(tmp_path)
    proc, dog = start_staying_up(env)
    root = Path(env["DEMO_DIR"])
    agent = int((root / "run" / "agent-node-b.pid").read_text())
    os.kill(agent, signal.SIGKILL)
    rest = dog.finish(1)
    assert f"agent-node-b exited with status -9; read the log: {root}/logs/agent-node-b.log" in rest
    assert not processes_of(root)
    assert sorted(p.name for p in root.iterdir()) == ["logs"]
    assert "leftovers" in stop(env)
    assert_nothing_left(root)


def test_demo_ctrl_c_during_setup(tmp_path, swept):
    env = demo_env(tmp_path)
    proc, dog = start_demo(env)
    seen = ""
    for line in proc.stdout:
        seen += line
        if line.startswith(f"[ 8/{STEPS}]"):  # the daemons are starting
            proc.send_signal(signal.SIGINT)
            break
    rest = dog.finish(130)
    assert re.search(rf"SIGINT received during step (8|9|1\d)/{STEPS}, stopping", rest), rest
    assert "every process stopped" in rest
    assert_nothing_left(env["DEMO_DIR"])


def test_demo_detached_ctrl_c_before_up(tmp_path, swept):
    """DEMO_DETACH=1, Ctrl-C while it starts: the front-end passes it on to the
    background supervisor, relays its last words and exits with its status."""
    env = demo_env(tmp_path)
    env["DEMO_DETACH"] = "1"
    proc, dog = start_demo(env)
    seen = ""
    for line in proc.stdout:
        seen += line
        if line.startswith(f"[ 8/{STEPS}]"):
            proc.send_signal(signal.SIGINT)
            break
    rest = dog.finish(130)
    assert re.search(rf"SIGINT received during step (8|9|1\d)/{STEPS}, stopping", rest), seen + rest
    assert "every process stopped" in rest
    assert "runs in the background" not in seen + rest
    assert_nothing_left(env["DEMO_DIR"])


STOP_UNDER_FIRE = """
import os, signal, subprocess, sys, time
sys.path.insert(0, sys.argv[1])
import interrupt
interrupt.install()
daemons = [subprocess.Popen(["sleep", "60"]) for _ in range(3)]
sender = os.fork()
if sender == 0:  # Ctrl-C after Ctrl-C, for a second
    end = time.monotonic() + 1
    while time.monotonic() < end:
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(0.0001)
    os._exit(0)
watch_until = time.monotonic() + 0.5
try:
    while True:  # the supervisor watching its daemons, as wait_any() does
        for d in daemons:
            d.poll()
        if time.monotonic() > watch_until:
            interrupt.check()
except interrupt.Stop as e:
    print("stop:", e, flush=True)
for d in daemons:  # the teardown, still under fire
    d.terminate()
    d.wait()
os.waitpid(sender, 0)
print("stopped", [d.returncode for d in daemons])
"""


def test_stop_request_leaves_no_lock_taken():
    """Stop signals raining on the supervisor while it polls its daemons: the
    request is acted on, and the daemons can still be waited for. (A handler
    that raised left subprocess's _waitpid_lock taken, and wait() then hung.)"""
    r = subprocess.run(["/usr/bin/python3", "-c", STOP_UNDER_FIRE, str(REPO / "tools" / "demo.d")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "stop: SIGINT\nstopped [-15, -15, -15]\n", r.stdout + r.stderr
