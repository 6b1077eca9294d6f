# SPDX-License-Identifier: Apache-2.0
"""make demo: an all-in-one SLiteIO on this machine, driven as Kubernetes would.

  demo.py --dir DIR --build BUILD [--once]     run (stays up unless --once)
  demo.py --dir DIR --stop                     make demo-stop

Every step prints a progress line; a failure names the step and the log to
read, stops what was started and keeps DIR/logs (removed by demo-stop).
"""
import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import NODES, CTL_ADDR, Cluster, host_nqn  # noqa: E402
from supervisor import StepFailed, Supervisor, stop_detached  # noqa: E402
import workload as wl  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20
VOLUME_SIZE = 256 * MiB
REGION = 64 * MiB


class Stop(Exception):
    """SIGTERM/SIGHUP (make demo-stop, a closed terminal) or Ctrl-C."""


def on_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


class Progress:
    def __init__(self, total):
        self.n, self.total, self.current, self.log = 0, total, None, None

    def step(self, title, log=None):
        self.n += 1
        self.current, self.log, self.t0 = title, log, time.monotonic()
        print(f"[{self.n:2}/{self.total}] {title} ...", end="", flush=True)

    def ok(self, *details):
        print(f" ok ({time.monotonic() - self.t0:.1f} s)", flush=True)
        for d in details:
            print(d if d.startswith("  ") else f"        {d}", flush=True)


BINARIES = ("controller/slio-controller", "agent/slio-agent", "tgt/slio-tgt", "csi/slio-csi",
            "perf/slio-perf")


def run(args):
    sup = Supervisor(args.dir)
    ports = {"controller": args.ctl_port, "agent": args.agent_port, "nvme": args.nvme_port}
    cl = Cluster(sup, args.build, ports)
    p = Progress(17)
    csi = None
    try:
        p.step(f"checking the build ({args.build})")
        missing = [b for b in BINARIES if not os.access(Path(args.build) / b, os.X_OK)]
        if missing:
            raise StepFailed(f"not built: {', '.join(missing)} — run `make` first")
        try:
            import grpc  # noqa: F401
            from grpc_tools import protoc  # noqa: F401
        except ImportError as e:
            raise StepFailed(f"{sys.executable} lacks {e.name}: run `make deps` "
                             f"(python3-grpcio, python3-grpc-tools)") from e
        p.ok()
        p.step(f"preparing {args.dir} (pidfiles and sockets in run/, logs in logs/)")
        sup.prepare()
        p.ok()
        start_daemons(cl, p, sup)
        csi = csi_steps(cl, p, args)
        data_steps(cl, p, args, csi)
    except Stop as e:
        print(f"\ndemo: {e} received during step {p.n}/{p.total}, stopping", flush=True)
        return teardown(sup, p, keep_logs=False, rc=130 if str(e) == "SIGINT" else 0, csi=csi)
    except (StepFailed, OSError, KeyError, ValueError) as e:
        print(" FAILED", flush=True)
        print(f"demo: step {p.n}/{p.total} ({p.current}) failed: {e}", file=sys.stderr)
        log = getattr(e, "log", None) or p.log
        if log:
            print(f"demo: read the log: {log}", file=sys.stderr)
        return teardown(sup, p, keep_logs=True, rc=1, csi=csi)
    if args.once:
        return teardown(sup, p, keep_logs=False, rc=0, csi=csi)
    return stay_up(cl, p, csi)


def start_daemons(cl, p, sup):
    p.step(f"slio-controller on {CTL_ADDR}:{cl.ports['controller']} (SQLite store)",
           sup.logs / "controller.log")
    cl.start_controller()
    p.ok(f"REST API {cl.url}, admin token in {cl.tokens['admin']}")
    for node, addr in NODES:
        p.step(f"slio-tgt of {node} (RPC socket run/tgt-{node}.sock)", sup.logs / f"tgt-{node}.log")
        cl.start_target(node)
        p.ok()
    for node, addr in NODES:
        p.step(f"slio-agent {node} on {addr} (file pool, exports on {addr}:{cl.ports['nvme']})",
               sup.logs / f"agent-{node}.log")
        cl.start_agent(node, addr)
        p.ok(f"registered, ready; host NQN {host_nqn(node)}")
    p.step("slio-csi (controller + node) as node-a", sup.logs / "csi.log")
    cl.start_csi("node-a")
    p.ok(f"unix://{cl.csi_sock}")


def csi_steps(cl, p, args):
    from csi_client import CsiClient, generate_stubs
    p.step("CSI stubs from csi/proto/csi.proto; GetPluginInfo, Probe, NodeGetInfo",
           cl.sup.logs / "csi.log")
    pb2, pb2_grpc = generate_stubs(REPO, cl.root / "csi-stubs")
    csi = CsiClient(cl.csi_sock, pb2, pb2_grpc)
    name, version, ready, node = csi.probe()
    if not ready:
        raise StepFailed("slio-csi Probe: not ready (the controller is not answering ok)")
    p.ok(f"plugin {name} {version}, ready, node {node}")
    for vol, position in (("demo-local", "must_local"), ("demo-remote", "must_remote")):
        p.step(f"CreateVolume {vol} (256 MiB block, pod on node-a, position {position})",
               cl.sup.logs / "csi.log")
        v = csi.create_block_volume(vol, VOLUME_SIZE, position, "node-a")
        rec = cl.admin.get(f"/v1/volumes/{v.volume_id}")
        setattr(csi, vol.split("-")[1], rec)
        p.ok(f"{v.volume_id} on {rec['node']}/{rec['pool']} ({rec['phase']})")
    return csi


def data_steps(cl, p, args, csi):
    log = cl.sup.logs / "slio-perf.log"
    perf = cl.bin("perf/slio-perf")
    remote = csi.remote
    p.step("export demo-remote to node-a (attachment API, as NodeStageVolume asks)",
           cl.sup.logs / "agent-node-b.log")
    att = wl.attach(cl.csi_rest, remote["id"], "node-a")
    r = wl.Remote(perf, att, "node-a")
    p.ok(f"{r.nqn} at {r.traddr}:{r.trsvcid}, allowed host {r.hostnqn}",
         "no nvme-tcp kernel module on this host: slio-perf (user-space NVMe/TCP) is the host,",
         "connecting with node-a's host NQN")
    p.step("access control: node-b's host NQN is refused by node-b's target", log)
    if not wl.refused(r.argv("identify", host_nqn("node-b")), log):
        raise StepFailed("the target accepted a host NQN the export does not allow", log)
    p.ok()
    p.step(f"write + verify {REGION // MiB} MiB on demo-remote over NVMe/TCP (slio-perf -w verify)",
           log)
    res = wl.write_verify(r.argv("load"), REGION, 60, log, "remote write+verify")
    p.ok(f"{res['verified_blocks']} blocks of 4 KiB written and read back, 0 mismatches, "
         f"{res['mib_s']:.0f} MiB/s")
    local_dev = csi.local["device"]
    p.step(f"write + verify {REGION // MiB} MiB on demo-local (its file, slio-perf local)", log)
    res = wl.write_verify([perf, "local", "-f", local_dev], REGION, 60, log, "local write+verify")
    p.ok(f"{local_dev}: {res['verified_blocks']} blocks, 0 mismatches")
    p.step(f"local vs remote load, 4 KiB random read and write, QD 32, {args.seconds} s each", log)
    rows = [(w.replace("rand", ""),) + wl.load_pair([perf, "local", "-f", local_dev],
                                                    r.argv("load"), w, REGION, args.seconds, log)
            for w in ("randread", "randwrite")]
    p.ok(*wl.comparison_table(rows))
    p.step("pools and volumes", cl.sup.logs / "controller.log")
    p.ok(*tables(cl))
    p.step("how a real host (kernel nvme-tcp) would connect to demo-remote")
    p.ok(f"  {r.nvme_connect_line()}")


def tables(cl):
    exe = cl.slioctl()
    if exe:
        import subprocess
        argv = [exe, "--server", cl.url, "--token-file", cl.tokens["admin"], "get", "pools,volumes"]
        out = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=30)
        if out.returncode == 0:
            return [f"  $ slioctl get pools,volumes"] + [f"  {l}" for l in out.stdout.splitlines()]
        first = (out.stderr.strip().splitlines() or ["?"])[0]
        print(f"\n        slioctl failed ({first}); the same from the REST API:", end="")
    else:
        print("\n        (slioctl is not built yet; the same table from the REST API)", end="")
    return wl.rest_tables(cl.admin)


def stay_up(cl, p, csi):
    sup = cl.sup
    print(f"\nSLiteIO demo is up. Try:\n"
          f"  curl -H \"Authorization: Bearer $(cat {cl.tokens['admin']})\" {cl.url}/v1/volumes\n"
          f"Logs: {sup.logs}/. Stop with `make demo-stop` (or Ctrl-C here).", flush=True)
    try:
        while True:
            dead = sup.dead()
            if dead:
                print(f"demo: {dead.name} exited with status {dead.proc.returncode}; "
                      f"read the log: {dead.log}", file=sys.stderr)
                return teardown(sup, p, keep_logs=True, rc=1, csi=csi)
            time.sleep(0.5)
    except Stop as e:
        print(f"\ndemo: {e} received", flush=True)
        return teardown(sup, p, keep_logs=False, rc=0, csi=csi)


def teardown(sup, p, keep_logs, rc, csi=None):
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_IGN)  # finish stopping whatever arrives now
    if csi:
        csi.close()
    print("[stop] stopping slio-csi, the agents, the targets, the controller ...", end="", flush=True)
    ok = sup.stop_all()
    sup.remove(keep_logs=keep_logs)
    print(" ok" if ok else " done (see above)", flush=True)
    if keep_logs:
        print(f"demo: logs kept in {sup.logs} (`make demo-stop` removes them)", file=sys.stderr)
    else:
        print(f"[stop] every process stopped; {sup.root} removed", flush=True)
    return rc if ok else max(rc, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dir", required=True, type=lambda s: Path(s).resolve())
    ap.add_argument("--build", default=str(REPO / "build"))
    ap.add_argument("--once", action="store_true", help="tear down after printing (CI)")
    ap.add_argument("--stop", action="store_true", help="stop a running demo (make demo-stop)")
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("DEMO_SECONDS", "3")))
    ap.add_argument("--ctl-port", type=int, default=int(os.environ.get("DEMO_CTL_PORT", "8360")))
    ap.add_argument("--agent-port", type=int, default=int(os.environ.get("DEMO_AGENT_PORT", "9361")))
    ap.add_argument("--nvme-port", type=int, default=int(os.environ.get("DEMO_NVME_PORT", "4420")))
    args = ap.parse_args()
    if args.stop:
        print(stop_detached(args.dir))
        return 0
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
