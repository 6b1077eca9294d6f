# SPDX-License-Identifier: Apache-2.0
"""What the demo does with the cluster once it runs: the remote volume exported
to node-a through the controller's attachment API (what slio-csi's NodeStage
asks), data written and verified over NVMe/TCP with slio-perf as node-a's host,
a local-vs-remote load, and the tables printed at the end."""
import json
import time

import interrupt
from cluster import host_nqn, message
from supervisor import StepFailed

MiB = 1 << 20


def attach(rest, volume_id, node, timeout=30):
    """POST the attachment, then poll it until ready (as slio-csi's NodeStage does)."""
    status, out = rest.call("POST", f"/v1/volumes/{volume_id}/attachments", {"node": node})
    if status != 200:
        raise StepFailed(f"attach {volume_id} to {node}: HTTP {status}: {message(out)}")
    deadline = time.monotonic() + timeout
    while out.get("phase") != "ready":
        if out.get("phase") == "failed":
            raise StepFailed(f"attachment of {volume_id} to {node} failed: {out.get('message')}")
        if time.monotonic() > deadline:
            raise StepFailed(f"attachment of {volume_id} to {node} still {out.get('phase')} "
                             f"after {timeout} s")
        interrupt.sleep(0.05)
        out = rest.get(f"/v1/volumes/{volume_id}/attachments/{node}")
    return out


def perf(argv, what, log, timeout=120):
    """Run slio-perf with --json; its stderr goes to the step's log."""
    r = interrupt.run(list(argv) + ["--json"], timeout)
    with open(log, "a") as f:
        f.write(f"$ {' '.join(map(str, argv))} --json\n{r.stdout}{r.stderr}\n")
    if r.returncode != 0:
        raise StepFailed(f"slio-perf {what} exited {r.returncode}: "
                         f"{(r.stderr.strip().splitlines() or ['(no message)'])[-1]}", log)
    return json.loads(r.stdout)


class Remote:
    """slio-perf as node-a's user-space NVMe/TCP host of one attached volume."""

    def __init__(self, exe, attachment, node):
        addr = attachment["address"]
        self.exe, self.nqn = exe, attachment["nqn"]
        self.hostnqn = attachment.get("host_nqn") or host_nqn(node)
        self.traddr, self.trsvcid = addr["traddr"], str(addr["trsvcid"])

    def argv(self, cmd, hostnqn=None):
        return [self.exe, cmd, "-a", self.traddr, "-s", self.trsvcid, "-n", self.nqn,
                "--hostnqn", hostnqn or self.hostnqn]

    def nvme_connect_line(self):
        return (f"nvme connect -t tcp -a {self.traddr} -s {self.trsvcid} -n {self.nqn} "
                f"--hostnqn {self.hostnqn} --ctrl-loss-tmo 60 --reconnect-delay 2")


def write_verify(argv, region, seconds, log, what):
    res = perf(argv + ["-w", "verify", "-o", 4096, "-q", 16, "--queues", 1, "--size", region,
                       "-t", seconds], what, log)
    if res["mismatches"] or res["errors"] or not res["verified_blocks"]:
        raise StepFailed(f"{what}: {res['verified_blocks']} blocks verified, "
                         f"{res['mismatches']} mismatches, {res['errors']} I/O errors", log)
    return res


def refused(argv, log):
    """True when the target refuses the connection (the host NQN is not allowed)."""
    r = interrupt.run(argv, 30)
    with open(log, "a") as f:
        f.write(f"$ {' '.join(map(str, argv))}\n{r.stdout}{r.stderr}\n")
    return r.returncode != 0


def load_pair(local_argv, remote_argv, workload, region, seconds, log):
    opts = ["-w", workload, "-o", 4096, "-q", 32, "--queues", 1, "--size", region, "-t", seconds]
    return (perf(local_argv + opts, f"local {workload}", log),
            perf(remote_argv + opts, f"remote {workload}", log))


def comparison_table(rows):
    """rows: [(workload, local_result, remote_result)] -> lines side by side."""
    out = [f"  {'4 KiB, QD 32':<14} {'local (file, io_uring)':>26}   "
           f"{'remote (NVMe/TCP, slio-tgt)':>30}   remote/local"]
    for wl, lo, re in rows:
        for label, key, fmt in (("IOPS", "iops", "{:,.0f}"), ("MiB/s", "mib_s", "{:,.1f}")):
            ratio = re[key] / lo[key] if lo[key] else 0
            out.append(f"  {wl + ' ' + label:<14} {fmt.format(lo[key]):>26}   "
                       f"{fmt.format(re[key]):>30}   {ratio:>11.2f}")
        for label, key in (("mean lat µs", "mean"), ("p99 lat µs", "p99")):
            lo_v, re_v = lo["lat_us"][key], re["lat_us"][key]
            ratio = re_v / lo_v if lo_v else 0
            out.append(f"  {wl + ' ' + label:<14} {lo_v:>26.1f}   {re_v:>30.1f}   {ratio:>11.2f}")
    return out


def gib(n):
    return f"{n / (1 << 30):.1f}Gi" if n >= 1 << 30 else f"{n / MiB:.0f}Mi"


def rest_tables(rest):
    """The pools and volumes as `slioctl get pools,volumes` shows them, from the REST API."""
    pools = rest.get("/v1/pools")["items"]
    vols = rest.get("/v1/volumes")["items"]
    out = [f"  {'NODE':<8} {'POOL':<12} {'ENGINE':<7} {'STATUS':<7} {'CAPACITY':>9} "
           f"{'FREE':>9} {'RESERVED':>9} {'VOLUMES':>7}"]
    for p in pools:
        out.append(f"  {p.get('node', ''):<8} {p.get('name', ''):<12} {p.get('engine', ''):<7} "
                   f"{p.get('status', ''):<7} {gib(p.get('capacity', 0)):>9} {gib(p.get('free', 0)):>9} "
                   f"{gib(p.get('reserved', 0)):>9} {p.get('volumes', 0):>7}")
    out.append("")
    out.append(f"  {'NAME':<12} {'ID':<36} {'SIZE':>7} {'NODE':<7} {'POSITION':<11} "
               f"{'PHASE':<6} {'ATTACHED TO'}")
    for v in vols:
        att = ",".join(f"{a['node']}({'local' if a.get('local') else 'nvme-tcp'})"
                       for a in v.get("attachments", []))
        out.append(f"  {v.get('name', ''):<12} {v.get('id', ''):<36} {gib(v.get('size', 0)):>7} "
                   f"{v.get('node', ''):<7} {v.get('position', ''):<11} {v.get('phase', ''):<6} "
                   f"{att or '-'}")
    return out
