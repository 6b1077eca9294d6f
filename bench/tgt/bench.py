#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/tgt: native fio vs slio-perf local vs slio-perf -> slio-tgt over loopback.

For each backing (a file on tmpfs, a file on disk) and each case (4K randread
QD1/QD32, 4K randwrite QD32, 128K seq read/write QD32) prints IOPS, MiB/s,
median latency, CPU seconds per million I/Os (= CPU microseconds per I/O) of
the host and of the target, the target's CPU use in % of one core, and the
ratios against native fio. Runners:
  native    fio (io_uring, direct) on the backing file
  local     slio-perf local mode on the backing file (same engine as remote)
  remote    slio-perf -> slio-tgt over loopback, target with adaptive polling
            (default --poll-us 50): what a user gets; tgtCPU includes spinning
  remote-p0 the same against a target started with --poll-us 0 (never spins):
            its tgtCPU is the work itself, so tgt% near 100 means the target
            is the limit
  remote-hp (--host-poll) the default target (adaptive polling, idle at rest)
            with a host that never sleeps, as SPDK's perf: what the target
            delivers when the host does not add wake-ups of its own
  remote-fp (--full-poll) target with --poll-us -1 and a host that never
            sleeps: both sides burn a core, as SPDK's target and perf do
  before    (--before DIR) the "remote" runner against another build's slio-tgt
            (e.g. the commit before a change), same options, same rounds: the
            before/after figure of a change to the target
  spdk, spdk-tgt, spdk-host (--spdk DIR) SPDK's nvmf_tgt and perf, and each
            crossed with ours, in the same rounds (bench/tgt/spdk.py)
With --repeat N every case runs each runner N times, interleaved (native,
local, remote, ... then again), and prints the run with the median IOPS and the
min-max range: this machine's speed drifts by 20 % within minutes, so single
runs of different runners are not comparable. It also prints the paired ratio:
each round's runner against the fio run of the same round, median [min-max]
over the rounds, which cancels most of the drift. --pin puts the target on the
first CPU (-m, one reactor) and fio and slio-perf on the last one, as the
issue measured SPDK.
Also prints the target's idle CPU (no connection) and, when the build has it,
tests/unit/tgt/transport/transport_bench: the transport's own CPU per 4K I/O
with a RAM fake behind it, i.e. target CPU excluding the backing device.

  bench/tgt/bench.py [--build DIR] [--seconds 10] [--size 1G] [--disk-dir /var/tmp]
                     [--tmpfs-dir /dev/shm] [--only tmpfs|disk] [--no-remote] [--no-p0]
                     [--engine auto|io_uring|epoll] [--spin US] [--hybrid] [--disk-batch N]
                     [--cases NAME,...] [--repeat N] [--pin] [--host-poll] [--full-poll]
                     [--spdk DIR] [--before DIR] [--json]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import spdk
from procs import free_port, wait_for_socket

REPO = Path(__file__).resolve().parents[2]
CASES = [  # name, slio-perf workload, fio rw, block size, queue depth
    ("4k-randread-qd1", "randread", "randread", "4k", 1),
    ("4k-randread-qd32", "randread", "randread", "4k", 32),
    ("4k-randwrite-qd32", "randwrite", "randwrite", "4k", 32),
    ("128k-read-qd32", "read", "read", "128k", 32),
    ("128k-write-qd32", "write", "write", "128k", 32),
]
NQN = "nqn.2024-01.io.slite:bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST_NEVER_SLEEPS = 1000000  # slio-perf --spin (µs, its maximum): spin for the whole run


def proc_cpu(pid):
    """utime+stime of a process in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def fio(path, rw, bs, qd, seconds, size, prefix=()):
    argv = [*prefix, "fio", "--name=native", f"--filename={path}", "--ioengine=io_uring", "--direct=1",
            f"--rw={rw}", f"--bs={bs}", f"--iodepth={qd}", f"--size={size}", "--time_based",
            f"--runtime={seconds}", "--output-format=json", "--group_reporting"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    job = json.loads(out)["jobs"][0]
    side = job["read"] if "read" in rw else job["write"]
    ios = side["total_ios"]
    cpu = (job["usr_cpu"] + job["sys_cpu"]) / 100.0 * seconds
    return {"iops": side["iops"], "mib_s": side["bw_bytes"] / 2**20,
            "p50_us": side["clat_ns"]["percentile"].get("50.000000", 0) / 1000,
            "host_cpu_per_mio": cpu / ios * 1e6 if ios else 0}


def perf(exe, mode, target_args, wl, bs, qd, seconds, size, tgt_pid=None, spin=0,
         hybrid=False, prefix=()):
    argv = [*prefix, exe, mode, *target_args, "-w", wl, "-o", bs, "-q", str(qd), "-t", str(seconds),
            "--size", str(size), "--json"]
    if spin:
        argv += ["--spin", str(spin)]
    if hybrid:
        argv += ["--hybrid"]
    t0 = proc_cpu(tgt_pid) if tgt_pid else 0
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    tgt_cpu = proc_cpu(tgt_pid) - t0 if tgt_pid else None
    res = json.loads(r.stdout)
    ios = res["ios"] or 1
    out = {"iops": res["iops"], "mib_s": res["mib_s"], "p50_us": res["lat_us"]["p50"],
           "host_cpu_per_mio": res["cpu"]["total_s"] / ios * 1e6}
    if tgt_cpu is not None:
        out["tgt_cpu_per_mio"] = tgt_cpu / ios * 1e6
        out["tgt_util"] = tgt_cpu / seconds * 100
    return out


def configure_export(rpc, backing, port):
    """Export backing as namespace 1 of NQN on 127.0.0.1:port through JSON-RPC
    (the same calls configure slio-tgt and SPDK's nvmf_tgt)."""
    calls = [
        ("bdev_aio_create", {"filename": str(backing), "name": "bench0", "block_size": 512}),
        ("nvmf_create_transport", {"trtype": "TCP"}),
        ("nvmf_create_subsystem", {"nqn": NQN, "serial_number": "BENCH", "allow_any_host": True}),
        ("nvmf_subsystem_add_ns", {"nqn": NQN, "namespace": {"bdev_name": "bench0"}}),
        ("nvmf_subsystem_add_listener", {"nqn": NQN, "listen_address": {
            "trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": str(port)}}),
    ]
    for m, p in calls:
        subprocess.run(rpc + [m, json.dumps(p)], check=True, capture_output=True)


class Tgt:
    def __init__(self, build, workdir, backing, extra=()):
        self.sock = os.path.join(workdir, "bench.sock")
        self.port = free_port()
        self.proc = subprocess.Popen([str(build / "tgt/slio-tgt"), "-r", self.sock, *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rpc = [str(build / "tgt/slio-tgt-rpc"), "-s", self.sock]
        wait_for_socket(self.sock)
        configure_export(rpc, backing, self.port)

    def args(self):
        return ["-a", "127.0.0.1", "-s", str(self.port), "-n", NQN]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(20)


def idle_cpu(pid, seconds=2.0):
    """CPU seconds per second used by an idle process."""
    t0 = proc_cpu(pid)
    time.sleep(seconds)
    return (proc_cpu(pid) - t0) / seconds


def transport_bench(build):
    """Target CPU per 4K I/O of the transport alone (RAM fake, minimal host), or None."""
    exe = build / "tests/unit/tgt/transport/transport_bench"
    if not os.access(exe, os.X_OK):
        return None
    out = {}
    for name, argv in (("4k-read-qd32", ["32", "300000", "50", "read"]),
                       ("4k-write-qd32", ["32", "300000", "50", "write"]),
                       ("4k-read-qd32-p0", ["32", "300000", "0", "read"])):
        r = subprocess.run([str(exe), *argv], capture_output=True, text=True)
        m = re.search(r"([0-9.]+) IOPS, target CPU ([0-9.]+) us/IO", r.stdout)
        if r.returncode == 0 and m:
            out[name] = {"iops": float(m.group(1)), "tgt_cpu_us": float(m.group(2))}
    return out


FLOOR_SIZES = {"4k-read": 4096 + 48, "no-data": 24}  # bytes back for 72 out


def tcp_floor(a, kinds=tuple(FLOOR_SIZES)):
    """Loopback TCP round trips with a QD1 4K read's sizes (bench/tgt/tcp_pingpong.c), or None."""
    exe = a.build / "bench/tcp-pingpong"
    if not os.access(exe, os.X_OK):
        return None
    pin = ["--server-cpu", str(a.cpus[0]), "--client-cpu", str(a.cpus[-1])] if a.pin else []
    out = {}
    for name in kinds:
        r = subprocess.run([str(exe), "--count", "50000", "--resp", str(FLOOR_SIZES[name]), *pin],
                           capture_output=True, text=True)
        if r.returncode == 0:
            out[name] = json.loads(r.stdout)
    return out


def make_backing(directory, size):
    fd, path = tempfile.mkstemp(prefix="slio-bench-", suffix=".img", dir=directory)
    chunk = os.urandom(1 << 20)  # real data, so reads do not hit holes
    with os.fdopen(fd, "wb") as f:
        for _ in range(size >> 20):
            f.write(chunk)
    return path


def fmt(r):
    s = f"{r['iops']:>10.0f} {r['mib_s']:>9.1f} {r['p50_us']:>8.1f} {r['host_cpu_per_mio']:>9.2f}"
    if "tgt_cpu_per_mio" not in r:
        return s + " " * 15
    return s + f" {r['tgt_cpu_per_mio']:>9.2f} {r['tgt_util']:>4.0f}%"


def median_run(runs):
    """The run with the median IOPS (the lower one of an even count), with the IOPS range."""
    ordered = sorted(runs, key=lambda r: r["iops"])
    pick = dict(ordered[(len(ordered) - 1) // 2])
    pick["iops_min"], pick["iops_max"] = ordered[0]["iops"], ordered[-1]["iops"]
    pick["runs"] = len(runs)
    return pick


def parse_size(text):
    if text[-1] in "KMG":
        return int(text[:-1]) << {"K": 10, "M": 20, "G": 30}[text[-1]]
    return int(text)


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("SLIO_BUILD", REPO / "build"), type=Path)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--size", default="1G")
    ap.add_argument("--tmpfs-dir", default="/dev/shm")
    ap.add_argument("--disk-dir", default="/var/tmp")
    ap.add_argument("--only", choices=["tmpfs", "disk"])
    ap.add_argument("--cases", help="comma-separated case names (default: all)")
    ap.add_argument("--no-remote", action="store_true")
    ap.add_argument("--no-p0", action="store_true", help="skip the --poll-us 0 target runs")
    ap.add_argument("--host-poll", action="store_true",
                    help="also run remote-hp: default target, host never sleeps")
    ap.add_argument("--full-poll", action="store_true",
                    help="also run remote-fp: target --poll-us -1, host never sleeps")
    ap.add_argument("--engine", choices=["auto", "io_uring", "epoll"], default="auto",
                    help="slio-tgt --engine for remote runs")
    ap.add_argument("--spin", type=int, default=50, help="slio-perf --spin (µs) for remote runs")
    ap.add_argument("--hybrid", action="store_true",
                    help="slio-perf --hybrid for remote runs (hybrid polling on the host too)")
    ap.add_argument("--disk-batch", type=int,
                    help="slio-tgt --disk-batch (default: the target's own default)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per runner and case, interleaved; the median is printed")
    ap.add_argument("--pin", action="store_true",
                    help="target on the first CPU, fio and slio-perf on the last")
    ap.add_argument("--spdk", type=Path, metavar="DIR",
                    help="an SPDK build/ directory: adds the spdk, spdk-tgt and spdk-host runners "
                         "(needs --pin and hugepages, see bench/tgt/spdk.py)")
    ap.add_argument("--before", type=Path, metavar="DIR",
                    help="another build directory: adds the runner 'before', the remote runner "
                         "against that build's slio-tgt (a before/after figure in one run)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    if a.before and not os.access(a.before / "tgt/slio-tgt", os.X_OK):
        ap.error(f"--before: no executable {a.before / 'tgt/slio-tgt'}")
    a.size_bytes = parse_size(a.size)
    names = [c[0] for c in CASES]
    a.case_list = CASES
    if a.cases:
        wanted = a.cases.split(",")
        unknown = [w for w in wanted if w not in names]
        if unknown:
            ap.error(f"unknown case {unknown[0]!r} (known: {', '.join(names)})")
        a.case_list = [c for c in CASES if c[0] in wanted]
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    cpus = sorted(os.sched_getaffinity(0))
    if a.pin and len(cpus) < 2:
        ap.error("--pin needs two CPUs")
    a.cpus = cpus
    if a.spdk:
        if not a.pin or a.no_remote:
            ap.error("--spdk needs --pin (SPDK's target and perf each take one CPU) and remote runs")
        why = spdk.check(a.spdk)
        if why:
            ap.error(f"--spdk: {why}")
    a.tgt_pin = ["-m", hex(1 << cpus[0]), "--reactors", "1"] if a.pin else []
    a.host_prefix = ["taskset", "-c", str(cpus[-1])] if a.pin else []
    return a


def remote_runners(a):
    """The remote runners: name -> (slio-tgt options, slio-perf spin, hybrid, build)."""
    common = ["--engine", a.engine, *a.tgt_pin]
    if a.disk_batch is not None:
        common += ["--disk-batch", str(a.disk_batch)]
    runners = {"remote": (common, a.spin, a.hybrid, a.build)}
    if a.before:
        runners["before"] = (common, a.spin, a.hybrid, a.before)
    if not a.no_p0:
        runners["remote-p0"] = (common + ["--poll-us", "0"], a.spin, a.hybrid, a.build)
    if a.host_poll:
        runners["remote-hp"] = (common, HOST_NEVER_SLEEPS, False, a.build)
    if a.full_poll:
        runners["remote-fp"] = (common + ["--poll-us", "-1"], HOST_NEVER_SLEEPS, False, a.build)
    return runners


def remote_run(a, exe, backing, runner, case):
    """One run against a target of its own: a spinning target must not steal the
    CPU of the other runners' (all are on the same CPU with --pin)."""
    opts, spin, hybrid, build = runner
    _, wl, _, bs, qd = case
    tgt = Tgt(build, tempfile.mkdtemp(prefix="slio-bench-"), backing, opts)
    try:
        return perf(exe, "load", tgt.args(), wl, bs, qd, a.seconds, a.size_bytes,
                    tgt_pid=tgt.proc.pid, spin=spin, hybrid=hybrid, prefix=a.host_prefix)
    finally:
        tgt.stop()


def with_target_cpu(pid, seconds, run):
    """run() -> result, with the target's CPU per I/O and its use of a core added."""
    t0 = proc_cpu(pid)
    r = run()
    tgt_cpu = proc_cpu(pid) - t0
    r["tgt_cpu_per_mio"] = tgt_cpu / ((r["iops"] * seconds) or 1) * 1e6
    r["tgt_util"] = tgt_cpu / seconds * 100
    return r


def spdk_round(a, exe, backing, case):
    """One run of each SPDK runner (see bench/tgt/spdk.py): name -> result."""
    _, wl, _, bs, qd = case
    host_cpu = a.cpus[-1]

    def spdk_perf(port):
        return spdk.perf(a.spdk, host_cpu, port, NQN, wl, bs, qd, a.seconds)

    def slio_perf(port):
        return perf(exe, "load", ["-a", "127.0.0.1", "-s", str(port), "-n", NQN], wl, bs, qd,
                    a.seconds, a.size_bytes, spin=HOST_NEVER_SLEEPS,
                    prefix=["taskset", "-c", str(host_cpu)])

    out = {}
    for name, host in (("spdk", spdk_perf), ("spdk-tgt", slio_perf)):
        tgt, port = spdk.SpdkTgt(a.spdk, str(a.build / "tgt/slio-tgt-rpc"), a.cpus[0]), free_port()
        try:
            configure_export(tgt.rpc, backing, port)
            out[name] = with_target_cpu(tgt.proc.pid, a.seconds, lambda: host(port))
        finally:
            tgt.stop()
    tgt = Tgt(a.build, tempfile.mkdtemp(prefix="slio-bench-"), backing, remote_runners(a)["remote"][0])
    try:
        out["spdk-host"] = with_target_cpu(tgt.proc.pid, a.seconds, lambda: spdk_perf(tgt.port))
    finally:
        tgt.stop()
    return out


def run_case(a, exe, backing, case):
    """All runners of one case, --repeat times interleaved: (runner -> list of results,
    TCP floor p50s measured between the runs of a QD1 case)."""
    _, wl, rw, bs, qd = case
    runs = {}
    remotes = {} if a.no_remote else remote_runners(a)
    floors = []
    for _ in range(a.repeat):
        if qd == 1 and remotes:  # the floor in the same minutes as the runs it explains
            floor = (tcp_floor(a, ("4k-read",)) or {}).get("4k-read")
            if floor:
                floors.append(floor["p50_us"])
        runs.setdefault("native", []).append(
            fio(backing, rw, bs, qd, a.seconds, a.size_bytes, a.host_prefix))
        runs.setdefault("local", []).append(
            perf(exe, "local", ["-f", backing], wl, bs, qd, a.seconds, a.size_bytes,
                 prefix=a.host_prefix))
        for name, runner in remotes.items():
            runs.setdefault(name, []).append(remote_run(a, exe, backing, runner, case))
        if a.spdk:
            for name, r in spdk_round(a, exe, backing, case).items():
                runs.setdefault(name, []).append(r)
    return runs, floors


def target_idle_cpu(a, backing):
    """CPU of a target with an export and no connection (the first runner's options)."""
    tgt = Tgt(a.build, tempfile.mkdtemp(prefix="slio-bench-"), backing,
              remote_runners(a)["remote"][0])
    try:
        time.sleep(0.5)
        return idle_cpu(tgt.proc.pid)
    finally:
        tgt.stop()


def paired_ratios(runs):
    """Each runner's IOPS over native's in the same round: runner -> (median, min, max)."""
    out = {}
    for runner, rs in runs.items():
        ratios = sorted(r["iops"] / (n["iops"] or 1) for r, n in zip(rs, runs["native"]))
        out[runner] = (statistics.median(ratios), ratios[0], ratios[-1])
    return out


def print_row(name, row, repeat):
    base = row["native"]["iops"] or 1
    for runner, r in row.items():
        if not isinstance(r, dict):
            continue
        spread = f"  [{r['iops_min']:.0f}-{r['iops_max']:.0f}]" if repeat > 1 else ""
        paired = ""
        if repeat > 1 and runner != "native":
            med, lo, hi = r["paired_ratio"]
            paired = f"  paired {med:.2f}x [{lo:.2f}-{hi:.2f}]"
        print(f"{name:<20} {runner:<9} {fmt(r)}  {r['iops'] / base:5.2f}x{spread}{paired}")


def bench_backing(a, exe, kind, directory, results, extra):
    backing = make_backing(directory, a.size_bytes)
    try:
        if not a.no_remote:
            extra[f"{kind}_idle_cpu"] = target_idle_cpu(a, backing)
        if not a.json:
            print(f"\n== backing: {kind} ({backing}, {a.size_bytes >> 20} MiB), "
                  f"{a.seconds} s per run, {a.repeat} run(s) per runner"
                  f"{', pinned' if a.pin else ''}")
            if not a.no_remote:
                print(f"target idle CPU (export, no connection): "
                      f"{extra[f'{kind}_idle_cpu'] * 100:.2f}% of a core")
            print(f"{'case':<20} {'runner':<9} {'IOPS':>10} {'MiB/s':>9} {'p50 us':>8} "
                  f"{'hostCPU/M':>9} {'tgtCPU/M':>9} {'tgt%':>5}  ratio")
        for case in a.case_list:
            runs, floors = run_case(a, exe, backing, case)
            row = {"backing": kind, "case": case[0]}
            row.update({runner: median_run(rs) for runner, rs in runs.items()})
            for runner, ratio in paired_ratios(runs).items():
                row[runner]["paired_ratio"] = ratio
            if floors:
                row["tcp_floor_p50_us"] = statistics.median(floors)
            results.append(row)
            if not a.json:
                print_row(case[0], row, a.repeat)
                floor = row.get("tcp_floor_p50_us")
                if floor:
                    over = ", ".join(f"{k} {r['p50_us'] - floor:.1f} us"
                                     for k, r in row.items()
                                     if k.startswith(("remote", "spdk")) and r["p50_us"])
                    print(f"{'':<20} p50 above the TCP floor measured between these runs "
                          f"({floor:.1f} us): {over}")
    finally:
        os.unlink(backing)


def main():
    a = parse_args()
    exe = str(a.build / "perf/slio-perf")
    for need in [exe] + ([] if a.no_remote else [str(a.build / "tgt/slio-tgt"),
                                                  str(a.build / "tgt/slio-tgt-rpc")]):
        if not os.access(need, os.X_OK):
            sys.exit(f"bench: {need} not built (ninja -C {a.build})")
    if not shutil.which("fio"):
        sys.exit("bench: fio not installed")
    results = []
    extra = {}
    if not a.no_remote:
        extra["transport_only"] = transport_bench(a.build)
        if extra["transport_only"] and not a.json:
            print("transport alone (RAM fake nvmf, minimal host; target CPU excluding the backing):")
            for k, v in extra["transport_only"].items():
                print(f"  {k:<16} {v['iops']:>10.0f} IOPS  {v['tgt_cpu_us']:.2f} us target CPU/IO")
    if not a.no_remote:
        extra["tcp_floor"] = tcp_floor(a)
        if extra["tcp_floor"] and not a.json:
            print("loopback TCP round trip, both sides spinning (the floor under QD1 remote):")
            for k, v in extra["tcp_floor"].items():
                print(f"  {k:<16} {v['req']} B out, {v['resp']} B back: p50 {v['p50_us']:.1f} us"
                      f"  p99 {v['p99_us']:.1f} us")
    for kind, directory in (("tmpfs", a.tmpfs_dir), ("disk", a.disk_dir)):
        if not a.only or a.only == kind:
            bench_backing(a, exe, kind, directory, results, extra)
    if a.json:
        print(json.dumps({"results": results, **extra}, indent=2))


if __name__ == "__main__":
    main()
