# SPDX-License-Identifier: Apache-2.0
"""make demo: an all-in-one SLiteIO on this machine, driven as Kubernetes would.

  demo.py --dir DIR --build BUILD              run; stays up in the foreground
  demo.py --dir DIR --build BUILD --detach     ... in the background once it is up
  demo.py --dir DIR --build BUILD --once       tear down after printing (CI)
  demo.py --dir DIR --stop                     make demo-stop

Every step prints a progress line; a failure names the step and the log to
read, stops what was started and keeps DIR/logs (removed by demo-stop).
"""
import argparse
import codecs
import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster import NODES, CTL_ADDR, Cluster, host_nqn  # noqa: E402
from supervisor import StepFailed, Supervisor, stop_detached  # noqa: E402
import interrupt  # noqa: E402
from interrupt import Stop  # noqa: E402
import workload as wl  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20
VOLUME_SIZE = 256 * MiB
REGION = 64 * MiB


class Progress:
    def __init__(self, total):
        self.n, self.total, self.current, self.log = 0, total, None, None

    def step(self, title, log=None):
        interrupt.check()  # a stop requested during the previous step
        self.n += 1
        self.current, self.log, self.t0 = title, log, time.monotonic()
        print(f"[{self.n:2}/{self.total}] {title} ...", end="", flush=True)

    def ok(self, *details):
        print(f" ok ({time.monotonic() - self.t0:.1f} s)", flush=True)
        for d in details:
            print(d if d.startswith("  ") or not d else f"        {d}", flush=True)


BINARIES = ("controller/slio-controller", "agent/slio-agent", "tgt/slio-tgt", "csi/slio-csi",
            "perf/slio-perf")


def run(args):
    sup = Supervisor(args.dir)
    ports = {"controller": args.ctl_port, "agent": args.agent_port, "nvme": args.nvme_port}
    cl = Cluster(sup, args.build, ports)
    cl.background = args.background
    p = Progress(19)
    csi = None
    try:
        p.step(f"checking the build ({args.build})")
        missing = [b for b in BINARIES if not os.access(Path(args.build) / b, os.X_OK)]
        if missing:
            raise StepFailed(f"not built: {', '.join(missing)} — run `make` first")
        for module, package in (("grpc", "python3-grpcio"), ("grpc_tools", "python3-grpc-tools")):
            if importlib.util.find_spec(module) is None:
                raise StepFailed(f"{sys.executable} lacks the module {module}: "
                                 f"run `make deps` (Debian package {package})")
        p.ok()
        p.step(f"preparing {args.dir} (pidfiles and sockets in run/, logs in logs/)")
        sup.prepare()
        p.ok()
        start_daemons(cl, p, sup)
        csi = csi_steps(cl, p, args)
        data_steps(cl, p, args, csi)
        if args.once:
            return teardown(sup, p, keep_logs=False, rc=0, csi=csi)
        p.current = None  # all steps done: up
        return stay_up(cl, p, csi)
    except Stop as e:
        when = f" during step {p.n}/{p.total}" if p.current else ""
        print(f"\ndemo: {e} received{when}, stopping", flush=True)
        return teardown(sup, p, keep_logs=False, rc=130 if str(e) == "SIGINT" else 0, csi=csi)
    except Exception as e:  # noqa: BLE001 - whatever broke, name the step and stop what runs
        print(" FAILED", flush=True)
        why = str(e) if isinstance(e, (StepFailed, OSError)) else f"{type(e).__name__}: {e}"
        print(f"demo: step {p.n}/{p.total} ({p.current}) failed: {why}", file=sys.stderr)
        log = getattr(e, "log", None) or p.log
        if log:
            print(f"demo: read the log: {log}", file=sys.stderr)
        return teardown(sup, p, keep_logs=True, rc=1, csi=csi)


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
    p.step("attach demo-local to node-a (attachment API, as NodeStageVolume asks)",
           cl.sup.logs / "controller.log")
    att = wl.attach(cl.csi_rest, csi.local["id"], "node-a")
    if not att.get("local") or not att.get("device"):
        raise StepFailed(f"demo-local on node-a: expected a local attachment, got {att}")
    local_dev = att["device"]
    p.ok(f"local: the volume's own file {local_dev}")
    p.step("attach demo-remote to node-a: node-b's agent exports it to node-a's host NQN",
           cl.sup.logs / "agent-node-b.log")
    att = wl.attach(cl.csi_rest, remote["id"], "node-a")
    r = wl.Remote(perf, att, "node-a")
    if Path("/sys/module/nvme_tcp").exists():
        why = "the demo changes nothing in this host's kernel: slio-perf (user-space NVMe/TCP)"
    else:
        why = "this host has no nvme-tcp kernel module: slio-perf (user-space NVMe/TCP)"
    p.ok(f"{r.nqn} at {r.traddr}:{r.trsvcid}, allowed host {r.hostnqn}",
         why, "plays node-a's kernel initiator below, connecting with node-a's host NQN")
    p.step("access control: node-b's host NQN is refused by node-b's target", log)
    if not wl.refused(r.argv("identify", host_nqn("node-b")), log):
        raise StepFailed("the target accepted a host NQN the export does not allow", log)
    p.ok()
    p.step(f"write + verify {REGION // MiB} MiB on demo-remote over NVMe/TCP (slio-perf -w verify)",
           log)
    res = wl.write_verify(r.argv("load"), REGION, 60, log, "remote write+verify")
    p.ok(f"{REGION // MiB} MiB written and read back ({res['verified_blocks']} blocks of 512 B), "
         f"0 mismatches, {res['mib_s']:.0f} MiB/s")
    p.step(f"write + verify {REGION // MiB} MiB on demo-local (its file, slio-perf local)", log)
    res = wl.write_verify([perf, "local", "-f", local_dev], REGION, 60, log, "local write+verify")
    p.ok(f"{res['verified_blocks']} blocks of 512 B, 0 mismatches")
    p.step(f"local vs remote load, 4 KiB random read and write, QD 32, {args.seconds} s each", log)
    rows = [(w.replace("rand", ""),) + wl.load_pair([perf, "local", "-f", local_dev],
                                                    r.argv("load"), w, REGION, args.seconds, log)
            for w in ("randread", "randwrite")]
    p.ok(*wl.comparison_table(rows))
    p.step("slioctl get pools,volumes", cl.sup.logs / "controller.log")
    p.ok(*tables(cl))
    p.step("how a real host (kernel nvme-tcp) would connect to demo-remote")
    p.ok(f"  {r.nvme_connect_line()}")


def tables(cl):
    exe = cl.slioctl()
    if exe:
        argv = [exe, "--server", cl.url, "--token-file", cl.tokens["admin"], "get", "pools,volumes"]
        out = interrupt.run(argv, 30)
        if out.returncode == 0:
            return [f"  {line}" for line in out.stdout.splitlines()]
        first = (out.stderr.strip().splitlines() or ["?"])[0]
        note = f"slioctl failed ({first}); the same tables from the REST API:"
    else:
        note = "slioctl is not built (branch cli); the same tables from the REST API:"
    return [note] + wl.rest_tables(cl.admin)


def stay_up(cl, p, csi):
    """Watch the daemons until a signal (Stop, handled by run()) or one exits."""
    sup = cl.sup
    here = "" if cl.background else " (or Ctrl-C here)"
    slioctl = cl.slioctl()
    try_slioctl = (f"  export SLIOCTL_SERVER={cl.url} SLIOCTL_TOKEN_FILE={cl.tokens['admin']}\n"
                   f"  {slioctl} get nodes,pools,volumes\n") if slioctl else ""
    print(f"\nSLiteIO demo is up. Try:\n{try_slioctl}"
          f"  curl -H \"Authorization: Bearer $(cat {cl.tokens['admin']})\" {cl.url}/v1/volumes\n"
          f"Logs: {sup.logs}/. Stop with `make demo-stop`{here}.", flush=True)
    if cl.background:  # the front-end stops reading now: later words go to a log
        out = os.open(sup.logs / "supervisor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
    dead = sup.wait_any()
    print(f"demo: {dead.name} exited with status {dead.proc.returncode}; "
          f"read the log: {dead.log}", file=sys.stderr)
    return teardown(sup, p, keep_logs=True, rc=1, csi=csi)


def teardown(sup, p, keep_logs, rc, csi=None):
    """Stop requests arriving now are only recorded (interrupt.py): nothing cuts this short."""
    if csi:
        csi.close()
    if not sup.owned:  # failed before making the directory (maybe another demo's): leave it
        return rc
    print("[stop] stopping slio-csi, the agents, the targets, the controller ...", end="", flush=True)
    ok = sup.stop_all()
    sup.remove(keep_logs=keep_logs)
    print(" ok" if ok else " done (see above)", flush=True)
    if keep_logs:
        print(f"demo: logs kept in {sup.logs} (`make demo-stop` removes them)", file=sys.stderr)
    else:
        print(f"[stop] every process stopped; {sup.root} removed", flush=True)
    return rc if ok else max(rc, 1)


def detach(args):
    """Run the supervisor in its own session and relay its words until it is up
    (or failed); then return, leaving it running. Ctrl-C (or SIGTERM, SIGHUP)
    before that is passed on to it: it stops, and its last words are relayed."""
    interrupt.install()
    argv = [sys.executable, __file__, "--dir", str(args.dir), "--build", args.build,
            "--background", "--seconds", str(args.seconds), "--ctl-port", str(args.ctl_port),
            "--agent-port", str(args.agent_port), "--nvme-port", str(args.nvme_port)]
    child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
    relay = Relay()
    try:
        for chunk in interrupt.chunks(child.stdout):
            if relay.write(chunk):  # the "is up" message is complete
                print(f"(supervisor pid {child.pid} runs in the background)", flush=True)
                return 0
    except Stop as e:
        child.send_signal(getattr(signal, str(e)))
        for chunk in iter(lambda: child.stdout.read1(65536), b""):
            relay.write(chunk)  # further requests are only recorded: read to the end
    return child.wait()


class Relay:
    """The background supervisor's words, passed on as they come (a progress
    line shows before its step ends), watching for the last line of "is up"."""

    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.line = ""

    def write(self, chunk):
        text = self.decoder.decode(chunk)
        print(text, end="", flush=True)
        *complete, self.line = (self.line + text).split("\n")
        return any(line.startswith("Logs: ") for line in complete)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dir", required=True, type=lambda s: Path(s).resolve())
    ap.add_argument("--build", default=str(REPO / "build"))
    ap.add_argument("--once", action="store_true", help="tear down after printing (CI)")
    ap.add_argument("--stop", action="store_true", help="stop a running demo (make demo-stop)")
    ap.add_argument("--detach", action="store_true", help="return once up; demo-stop stops it")
    ap.add_argument("--background", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("DEMO_SECONDS", "3")))
    ap.add_argument("--ctl-port", type=int, default=int(os.environ.get("DEMO_CTL_PORT", "8360")))
    ap.add_argument("--agent-port", type=int, default=int(os.environ.get("DEMO_AGENT_PORT", "9361")))
    ap.add_argument("--nvme-port", type=int, default=int(os.environ.get("DEMO_NVME_PORT", "4420")))
    args = ap.parse_args()
    if args.stop:
        print(stop_detached(args.dir))
        return 0
    if args.detach and not args.once:
        return detach(args)
    interrupt.install()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
