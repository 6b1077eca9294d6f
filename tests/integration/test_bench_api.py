# SPDX-License-Identifier: Apache-2.0
"""bench/api's load generator keeps measuring what it says against a real
controller: every answer counted, errors (a 404) counted and failing the exit
status, the open loop sending what was offered, the CPU of both sides read.
Figures are not judged here (targets live in bench/, not in timed tests)."""
import json
import subprocess

import pytest

from conftest import binary
from controller_proc import TOKENS, GiB, Agent, Controller


@pytest.fixture
def ctl_ids(tmp_path):
    c = Controller(tmp_path).start()
    Agent(c, "n1").register()
    ids = [c.ok("POST", "/v1/volumes", {"name": f"b{i}", "size": GiB}, token="csi")["id"]
           for i in range(3)]
    (tmp_path / "ids").write_text("\n".join(ids) + "\n")
    yield c, tmp_path / "ids"
    c.stop()


def bench(c, idfile, *opts, clients=4, seconds=1):
    r = subprocess.run([binary("bench/api/slio-bench-get"), "--json", "--warmup", "0",
                        "--server-pid", str(c.proc.pid), *opts, c.url, TOKENS["readonly"],
                        str(idfile), str(clients), str(seconds)],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, json.loads(r.stdout)


def test_closed_loop_counts_every_answer(ctl_ids):
    c, idfile = ctl_ids
    rc, m = bench(c, idfile)
    assert rc == 0
    assert m["errors"] == 0 and m["requests"] > 0 and m["offered"] == 0
    assert 0 < m["p50_ms"] <= m["p99_ms"] <= m["p999_ms"] <= m["max_ms"]
    assert m["server_cpu_pct"] >= 0 and m["client_cpu_pct"] >= 0


def test_open_loop_sends_what_is_offered(ctl_ids):
    c, idfile = ctl_ids
    rc, m = bench(c, idfile, "--rate", "200", seconds=2)
    assert rc == 0 and m["offered"] == 200 and m["errors"] == 0
    # a schedule of 4 clients x 50/s for 2 s: 400 intended sends, each started once
    assert 396 <= m["requests"] <= 404


def test_errors_are_counted_and_fail(ctl_ids, tmp_path):
    c, _ = ctl_ids
    missing = tmp_path / "missing"
    missing.write_text("00000000-0000-4000-8000-000000000000\n")
    rc, m = bench(c, missing, clients=2)
    assert rc == 1
    assert m["requests"] == 0 and m["errors"] > 0


def test_usage_errors_exit_2():
    r = subprocess.run([binary("bench/api/slio-bench-get"), "--rate", "x", "http://127.0.0.1:1",
                        "t", "ids", "1", "1"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "usage" in r.stderr
