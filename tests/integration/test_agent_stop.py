# SPDX-License-Identifier: Apache-2.0
"""slio-agent stopped while it is still starting: systemd's stop sends SIGTERM
to the whole unit, so the LVM command the agent is waiting for dies with it.
That is a requested stop, not a failure: the agent must exit 0 (a unit left
"failed" after `systemctl stop` is what tests/vm/system caught), while a real
start-up failure still exits 1 naming the pool and the cause."""
import os
import signal
import subprocess
import time

from conftest import binary, free_port

FAKE_LVM = """#!/bin/sh
echo "$(basename "$0") $*" >> "{dir}/calls"
{action}
"""


def fake_lvm(tmp_path, action):
    """An lvm whose every command (vgs, lvs, ...) runs ACTION; calls are logged."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    lvm = bindir / "lvm"
    lvm.write_text(FAKE_LVM.format(dir=tmp_path, action=action))
    lvm.chmod(0o755)
    for name in ("vgs", "lvs", "pvs", "vgcreate", "pvcreate", "lvcreate", "vgchange"):
        (bindir / name).symlink_to("lvm")
    return bindir


def start_agent(tmp_path, bindir):
    conf = tmp_path / "agent.yaml"
    conf.write_text(f"""node: {{name: n1, host_nqn: "nqn.2024-01.io.slite:node:n1"}}
listen: {{address: 127.0.0.1, port: {free_port()}}}
export: {{traddr: 127.0.0.1, trsvcid: 4420}}
controller: {{urls: ["http://127.0.0.1:1"]}}
target: {{socket: "{tmp_path}/no-target.sock"}}
pool: {{name: p1, engine: lvm, lvm: {{vg: slio, adopt: true}}}}
""")
    log = open(tmp_path / "agent.log", "w")
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
    return subprocess.Popen([binary("agent/slio-agent"), "-c", str(conf)], stdout=log,
                            stderr=subprocess.STDOUT, env=env)


def process_tree(pid):
    """PID and all its descendants (the agent runs commands in their own process groups,
    so a group kill would miss them; systemd kills the unit's cgroup, i.e. all of them)."""
    tree = [pid]
    for p in tree:
        for task in os.listdir(f"/proc/{p}/task"):
            try:
                with open(f"/proc/{p}/task/{task}/children") as f:
                    tree += [int(c) for c in f.read().split()]
            except FileNotFoundError:
                pass
    return tree


def test_sigterm_during_startup_is_a_clean_stop(tmp_path):
    bindir = fake_lvm(tmp_path, f'touch "{tmp_path}/started"; exec sleep 60')
    proc = start_agent(tmp_path, bindir)
    deadline = time.monotonic() + 15
    while not (tmp_path / "started").exists():
        assert proc.poll() is None, (tmp_path / "agent.log").read_text()
        assert time.monotonic() < deadline, "slio-agent never ran vgs"
        time.sleep(0.05)
    tree = process_tree(proc.pid)
    assert len(tree) > 1, "vgs is not a child of slio-agent"
    for pid in tree:
        os.kill(pid, signal.SIGTERM)
    rc = proc.wait(timeout=30)
    log = (tmp_path / "agent.log").read_text()
    assert rc == 0, log
    assert "signal 15 during start-up: stopping" in log
    assert r'start-up interrupted: pool \"p1\": vgs: killed by signal 15' in log
    assert "level=error" not in log
    assert (tmp_path / "calls").read_text().startswith("vgs ")


def test_startup_failure_without_a_stop_still_fails(tmp_path):
    bindir = fake_lvm(tmp_path, 'echo "  Volume group \\"slio\\" not found" >&2; exit 5')
    proc = start_agent(tmp_path, bindir)
    rc = proc.wait(timeout=30)
    log = (tmp_path / "agent.log").read_text()
    assert rc == 1, log
    assert r'cannot start: pool \"p1\": vgs: exited with status 5' in log
    assert "level=error" in log
