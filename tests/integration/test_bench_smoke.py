# SPDX-License-Identifier: Apache-2.0
"""bench/tgt keeps working: one short pass of the QD1 case on tmpfs with every
runner, repeated and pinned, and the TCP floor tool on its own. Figures are
not judged here (performance targets live in bench/, not in timed tests); the
test checks that every runner produced I/O, that medians come from the runs
they claim, and that the floor tool measures what it says."""
import json
import os
import re
import subprocess
import sys

from conftest import BUILD, REPO, binary


def test_tcp_pingpong_measures_round_trips():
    exe = binary("bench/tcp-pingpong")
    r = subprocess.run([exe, "--count", "2000", "--resp", "4144"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["count"] == 2000 and out["req"] == 72 and out["resp"] == 4144
    assert 0 < out["p50_us"] <= out["p99_us"]


def test_tcp_pingpong_refuses_bad_size_by_name():
    r = subprocess.run([binary("bench/tcp-pingpong"), "--resp", "0"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2
    assert '--resp "0"' in r.stderr


def test_bench_tgt_short_pass(tmp_path):
    binary("tgt/slio-tgt")
    binary("perf/slio-perf")
    argv = [sys.executable, str(REPO / "bench/tgt/bench.py"), "--build", str(BUILD),
            "--seconds", "1", "--size", "16M", "--only", "tmpfs", "--tmpfs-dir", str(tmp_path),
            "--cases", "4k-randread-qd1", "--repeat", "2", "--host-poll", "--full-poll", "--json"]
    if len(os.sched_getaffinity(0)) >= 2:
        argv.append("--pin")
    r = subprocess.run(argv, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["tcp_floor"]["4k-read"]["p50_us"] > 0
    (row,) = out["results"]
    assert row["case"] == "4k-randread-qd1"
    assert row["tcp_floor_p50_us"] > 0  # measured between the QD1 runs
    nat = row["native"]
    for runner in ("native", "local", "remote", "remote-p0", "remote-hp", "remote-fp"):
        res = row[runner]
        assert res["runs"] == 2
        assert 0 < res["iops_min"] <= res["iops"] <= res["iops_max"]
        med, lo, hi = res["paired_ratio"]  # against native (fio) of the same round
        assert 0 < lo <= med <= hi
        # each round's ratio is this runner's IOPS over native's in that round, so the
        # ratios lie between the extreme runs' quotients (a ratio not computed from
        # these runs, or against another runner, falls outside)
        eps = 1e-9
        assert lo >= res["iops_min"] / nat["iops_max"] - eps, (runner, res, nat)
        assert hi <= res["iops_max"] / nat["iops_min"] + eps, (runner, res, nat)
    assert list(tmp_path.glob("slio-bench-*.img")) == []  # the backing file is removed


def test_bench_tgt_refuses_unknown_case():
    r = subprocess.run([sys.executable, str(REPO / "bench/tgt/bench.py"), "--cases", "4k-nope"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "unknown case '4k-nope'" in r.stderr


def load_bench_spdk():
    sys.path.insert(0, str(REPO / "bench/tgt"))
    try:
        import spdk
    finally:
        sys.path.pop(0)
    return spdk


def test_spdk_perf_output_is_parsed():
    # Real output of SPDK v23.01.1's perf -L against slio-tgt (histogram lines dropped).
    spdk = load_bench_spdk()
    text = (REPO / "tests/integration/data/spdk-perf-v23.01.txt").read_text()
    assert spdk.parse_perf(text) == (186824.00, 729.78, 21.39, 19.791)
    no_p50 = text.split("Summary latency data")[0]
    assert spdk.parse_perf(no_p50) == (186824.00, 729.78, 21.39, None)
    try:
        spdk.parse_perf("Initializing NVMe Controllers\n")
        raise AssertionError("parsed output without a Total line")
    except ValueError as e:
        assert "Total" in str(e)


def test_bench_tgt_spdk_needs_a_build_and_pin(tmp_path):
    bench = [sys.executable, str(REPO / "bench/tgt/bench.py"), "--build", str(BUILD)]
    r = subprocess.run(bench + ["--spdk", str(tmp_path)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert "--spdk needs --pin" in r.stderr
    r = subprocess.run(bench + ["--pin", "--spdk", str(tmp_path)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 2
    assert f"{tmp_path}/bin/nvmf_tgt is not an executable" in r.stderr


def run_sched_bench(tmp_path, scorers):
    cfg = tmp_path / "sched.json"
    cfg.write_text(json.dumps({"scorers": scorers}))
    return subprocess.run([binary("bench/sched/sched-bench"), "--pools", "400", "--volumes",
                           "4000", "--config", str(cfg)], capture_output=True, text=True,
                          timeout=120)


def test_sched_bench_small_cluster_takes_the_spread_apart(tmp_path):
    """Figures are not judged: both rounds run with no violation, and the spread over the
    pools with nothing forced on them is never above the spread over every pool."""
    r = run_sched_bench(tmp_path, [{"name": "least_allocated", "weight": 30},
                                   {"name": "position_advice", "weight": 1}])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.count("constraint violations: 0") == 2
    every = [float(x) for x in re.findall(r"used-capacity spread: ([\d.]+) points", out)]
    unforced = [float(x) for x in re.findall(
        r"nothing forced on them \(no MustLocal.*?\): ([\d.]+) points", out)]
    assert len(every) == len(unforced) == 2
    assert all(0 <= u <= e for u, e in zip(unforced, every))
    assert unforced[1] == every[1]  # round 2 forces nothing
    kept, total = map(int, re.search(r"PreferLocal placed on the consumer's node: (\d+) of "
                                     r"(\d+)", out).groups())
    assert 0 < kept <= total
    assert "the fullest thick pools:" in out and "MustLocal requests per consumer node" in out


def test_sched_bench_refuses_an_unknown_scorer(tmp_path):
    r = run_sched_bench(tmp_path, [{"name": "nope"}])
    assert r.returncode == 1
    assert "scorer 'nope' is unknown" in r.stderr
