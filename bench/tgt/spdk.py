# SPDX-License-Identifier: Apache-2.0
"""bench/tgt --spdk DIR: SPDK's nvmf_tgt and perf beside slio-tgt and slio-perf.

The issue's reference is SPDK's nvmf_tgt with its own perf tool, both spinning a
core. With an SPDK build at hand (`DIR` holds bin/nvmf_tgt, bin/spdk_nvme_perf
(v24.09) or examples/perf (v23.01), and for a shared build lib/), the bench
adds three runners, each in the same
rounds as fio and ours, so the comparison is made in the same minutes:
  spdk       SPDK's nvmf_tgt + SPDK's perf (the issue's reference)
  spdk-tgt   SPDK's nvmf_tgt + slio-perf spinning (our host against theirs)
  spdk-host  slio-tgt as shipped + SPDK's perf (our target under their host)
SPDK's target is configured through slio-tgt-rpc with the same calls as ours:
the JSON-RPC subset is SPDK's. SPDK needs hugepages (2 MiB pages, 1.5 GiB free,
hugetlbfs mounted); nothing of SPDK is built or shipped by this project.
"""
import os
import re
import signal
import subprocess
import tempfile

from procs import wait_for_socket

MIN_FREE_HUGEPAGES = 768  # 1024 MiB for the target, 512 MiB for perf
TGT_MEM_MB = "1024"
PERF_MEM_MB = "512"
TOTAL_RE = re.compile(r"^Total\s*:\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)", re.M)
P50_RE = re.compile(r"^\s*50\.00000%\s*:\s*([\d.]+)us", re.M)


PERF_PATHS = ("bin/spdk_nvme_perf", "examples/perf")  # newer SPDK (24.09), older (23.01)


def perf_exe(spdk_dir):
    """SPDK's perf tool in this build, or None."""
    for rel in PERF_PATHS:
        path = os.path.join(spdk_dir, rel)
        if os.access(path, os.X_OK):
            return path
    return None


def check(spdk_dir):
    """None if SPDK's binaries and hugepages are usable, else why not."""
    if not os.access(os.path.join(spdk_dir, "bin/nvmf_tgt"), os.X_OK):
        return f"{spdk_dir}/bin/nvmf_tgt is not an executable (give --spdk an SPDK build/ directory)"
    if not perf_exe(spdk_dir):
        return f"no SPDK perf in {spdk_dir} ({' or '.join(PERF_PATHS)})"
    free = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                free = int(line.split()[1])
    if free < MIN_FREE_HUGEPAGES:
        return (f"SPDK needs {MIN_FREE_HUGEPAGES} free 2 MiB hugepages, {free} free "
                f"(echo 1024 > /proc/sys/vm/nr_hugepages; mount -t hugetlbfs nodev /dev/hugepages)")
    return None


def env(spdk_dir):
    e = dict(os.environ)
    lib = os.path.join(spdk_dir, "lib")
    e["LD_LIBRARY_PATH"] = lib + (":" + e["LD_LIBRARY_PATH"] if e.get("LD_LIBRARY_PATH") else "")
    return e


def parse_perf(out):
    """SPDK perf's output (with -L) -> (IOPS, MiB/s, mean us, p50 us or None)."""
    m = TOTAL_RE.search(out)
    if not m:
        raise ValueError("no 'Total' line in SPDK perf's output")
    p50 = P50_RE.search(out)
    return (float(m.group(1)), float(m.group(2)), float(m.group(3)),
            float(p50.group(1)) if p50 else None)


class SpdkTgt:
    """SPDK's nvmf_tgt on one CPU; .rpc is the command line that configures it."""

    def __init__(self, spdk_dir, rpc_exe, cpu):
        self.workdir = tempfile.mkdtemp(prefix="slio-bench-spdk-")
        self.sock = os.path.join(self.workdir, "spdk.sock")
        self.proc = subprocess.Popen(
            [os.path.join(spdk_dir, "bin/nvmf_tgt"), "-m", hex(1 << cpu), "-s", TGT_MEM_MB,
             "-r", self.sock, "--disable-cpumask-locks"],
            env=env(spdk_dir), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_socket(self.sock)
        self.rpc = [rpc_exe, "-s", self.sock]

    def stop(self):
        # SIGINT: SPDK shuts down and frees its hugepage files (SIGKILL would leak them)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def perf(spdk_dir, cpu, port, nqn, wl, bs, qd, seconds):
    """SPDK perf against 127.0.0.1:port; returns a bench result dict (host CPU: it spins)."""
    trid = f"trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:{port} subnqn:{nqn}"
    size = {"4k": "4096", "128k": "131072"}[bs]
    argv = [perf_exe(spdk_dir), "-r", trid, "-q", str(qd), "-o", size,
            "-w", wl, "-t", str(seconds), "-c", hex(1 << cpu), "-s", PERF_MEM_MB, "-L"]
    r = subprocess.run(argv, env=env(spdk_dir), capture_output=True, text=True)
    try:
        iops, mib_s, _, p50 = parse_perf(r.stdout)
    except ValueError as e:
        raise RuntimeError(f"{' '.join(argv)}: {e}: {(r.stdout + r.stderr)[-400:]}") from None
    ios = iops * seconds or 1
    return {"iops": iops, "mib_s": mib_s, "p50_us": p50 or 0.0,
            "host_cpu_per_mio": seconds / ios * 1e6}
