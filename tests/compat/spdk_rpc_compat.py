#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Drive SPDK's nvmf_tgt and slio-tgt with the same JSON-RPC calls and compare.

slio-tgt's management API is SPDK's method and parameter subset, so that the
agent can drive either target. This script checks that claim against a real
SPDK build: it starts each target in turn, runs one sequence of calls (every
method of docs/tgt-rpc.md, valid and invalid ones, with a host connected for
the calls that report controllers and I/O) and compares, call by call:
  - both succeed or both fail; failures with the same JSON-RPC error code;
  - the shape of each result: every member SPDK returns (recursively) must be
    in ours with the same JSON type. Extra members of ours are listed, not
    counted as differences.
Then the saved configuration crosses over: SPDK's (framework_get_config, as
its rpc.py save_config builds it) is loaded into slio-tgt, ours is replayed
call by call on SPDK (as rpc.py load_config does), and each must give the
same export (subsystems, hosts, listeners, namespaces, bdevs, QoS).
Exit status 0 when no difference is found, 1 otherwise. Not part of `make
test` (no SPDK there); see docs/interop.md for the last run.

  tests/compat/spdk_rpc_compat.py --spdk SPDK/build [--build build] [-v]

SPDK needs hugepages (1024 MiB for its target: 512 free 2 MiB pages and a
mounted hugetlbfs).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NQN = "nqn.2024-01.io.slite:compat"
HOST = "nqn.2014-08.org.nvmexpress:uuid:5b0c3f5e-1f4c-4a49-9d7e-2b1f7a0c6d11"


class Client:
    """A JSON-RPC 2.0 client on a unix socket; answers with or without a newline."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.sock.settimeout(10)
        self.buf = b""
        self.next_id = 1

    def call(self, method, params=None):
        req = {"jsonrpc": "2.0", "method": method, "id": self.next_id}
        if params is not None:
            req["params"] = params
        self.next_id += 1
        self.sock.sendall(json.dumps(req).encode())
        dec = json.JSONDecoder()
        while True:
            text = self.buf.decode(errors="replace").lstrip()
            try:
                obj, end = dec.raw_decode(text)
                self.buf = text[end:].encode()
                return obj
            except json.JSONDecodeError:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"{method}: connection closed")
                self.buf += chunk


# Differences kept on purpose (docs/tgt-rpc.md, "Errors"): label -> why.
KNOWN = {
    "!params not an object": "ill-typed params are -32602 (JSON-RPC's Invalid params); "
                             "SPDK answers -32603 in some methods, -32602 in others",
}


def shape(v):
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    return type(v).__name__


def compare_shapes(ref, ours, path, out):
    """Differences of ours from ref (SPDK): (missing, extra, type) lists in out."""
    if isinstance(ref, dict) and isinstance(ours, dict):
        for k in ref:
            if k not in ours:
                out["missing"].append(f"{path}.{k}")
            else:
                compare_shapes(ref[k], ours[k], f"{path}.{k}", out)
        out["extra"] += [f"{path}.{k}" for k in ours if k not in ref]
    elif isinstance(ref, list) and isinstance(ours, list):
        if ref and ours:
            compare_shapes(ref[0], ours[0], f"{path}[]", out)
    elif ref != ours and not ({ref, ours} <= {"int", "float"}):
        out["type"].append(f"{path}: SPDK {ref}, slio-tgt {ours}")


def sequence(backing, port):
    """The calls, in order: (label, method, params). A label starting with '!'
    expects a failure on both targets; with '~' the result is a list of
    configuration calls, compared by the methods it names."""
    la = {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": str(port)}
    return [
        ("version", "spdk_get_version", None),
        ("methods", "rpc_get_methods", None),
        ("aio create", "bdev_aio_create", {"filename": backing, "name": "c0", "block_size": 512}),
        ("!aio create duplicate", "bdev_aio_create",
         {"filename": backing, "name": "c0", "block_size": 512}),
        ("!aio create missing file", "bdev_aio_create",
         {"filename": backing + ".nope", "name": "c1", "block_size": 512}),
        ("bdevs", "bdev_get_bdevs", None),
        ("bdevs by name", "bdev_get_bdevs", {"name": "c0"}),
        ("!bdevs unknown name", "bdev_get_bdevs", {"name": "nope"}),
        ("transport", "nvmf_create_transport", {"trtype": "TCP"}),
        ("!transport again", "nvmf_create_transport", {"trtype": "TCP"}),
        ("transports", "nvmf_get_transports", None),
        ("subsystem", "nvmf_create_subsystem",
         {"nqn": NQN, "serial_number": "SLIOCOMPAT0001", "model_number": "compat"}),
        ("!subsystem duplicate", "nvmf_create_subsystem", {"nqn": NQN}),
        ("!subsystem bad nqn", "nvmf_create_subsystem", {"nqn": "not-an-nqn"}),
        ("add ns", "nvmf_subsystem_add_ns", {"nqn": NQN, "namespace": {"bdev_name": "c0"}}),
        ("!add ns unknown bdev", "nvmf_subsystem_add_ns",
         {"nqn": NQN, "namespace": {"bdev_name": "nope"}}),
        ("add listener", "nvmf_subsystem_add_listener", {"nqn": NQN, "listen_address": la}),
        ("add host", "nvmf_subsystem_add_host", {"nqn": NQN, "host": HOST}),
        ("subsystems", "nvmf_get_subsystems", None),
        ("subsystems by nqn", "nvmf_get_subsystems", {"nqn": NQN}),
        ("@connect", None, None),
        ("controllers", "nvmf_subsystem_get_controllers", {"nqn": NQN}),
        ("iostat", "bdev_get_iostat", {"name": "c0"}),
        ("stats", "nvmf_get_stats", None),
        ("qos", "bdev_set_qos_limit", {"name": "c0", "rw_ios_per_sec": 10000}),
        ("@grow", None, None),
        ("rescan", "bdev_aio_rescan", {"name": "c0"}),
        ("bdevs after rescan", "bdev_get_bdevs", {"name": "c0"}),
        ("subsystems list", "framework_get_subsystems", None),
        ("~config bdev", "framework_get_config", {"name": "bdev"}),
        ("~config nvmf", "framework_get_config", {"name": "nvmf"}),
        ("!config unknown", "framework_get_config", {"name": "nope"}),
        ("@disconnect", None, None),
        ("remove host", "nvmf_subsystem_remove_host", {"nqn": NQN, "host": HOST}),
        ("allow any host", "nvmf_subsystem_allow_any_host",
         {"nqn": NQN, "allow_any_host": True}),
        ("remove listener", "nvmf_subsystem_remove_listener",
         {"nqn": NQN, "listen_address": la}),
        ("remove ns", "nvmf_subsystem_remove_ns", {"nqn": NQN, "nsid": 1}),
        ("!remove ns again", "nvmf_subsystem_remove_ns", {"nqn": NQN, "nsid": 1}),
        ("delete subsystem", "nvmf_delete_subsystem", {"nqn": NQN}),
        ("!delete subsystem again", "nvmf_delete_subsystem", {"nqn": NQN}),
        ("aio delete", "bdev_aio_delete", {"name": "c0"}),
        ("!aio delete again", "bdev_aio_delete", {"name": "c0"}),
        ("!unknown method", "no_such_method", None),
        ("!params not an object", "bdev_get_bdevs", [1, 2]),
    ]


def start(kind, a, workdir):
    sock = os.path.join(workdir, f"{kind}.sock")
    if kind == "spdk":
        env = dict(os.environ, LD_LIBRARY_PATH=str(a.spdk / "lib"))
        argv = [str(a.spdk / "bin/nvmf_tgt"), "-m", "0x1", "-s", "1024", "-r", sock,
                "--disable-cpumask-locks"]
    else:
        env = None
        argv = [str(a.build / "tgt/slio-tgt"), "-r", sock, "--reactors", "1"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(sock):
            return proc, sock
        time.sleep(0.05)
    proc.kill()
    sys.exit(f"compat: {kind} target did not create {sock}")


def run_sequence(kind, a, workdir):
    """Run every call against one target: label -> ("ok", result) or ("err", code, message)."""
    backing = os.path.join(workdir, f"{kind}.img")
    with open(backing, "wb") as f:
        f.truncate(64 << 20)
    port = free_port()
    proc, sock = start(kind, a, workdir)
    host = None
    out = {}
    try:
        cli = Client(sock)
        for label, method, params in sequence(backing, port):
            if label == "@connect":  # a host holding a controller, with some I/O done before
                perf = str(a.build / "perf/slio-perf")
                target = ["-a", "127.0.0.1", "-s", str(port), "-n", NQN, "--hostnqn", HOST]
                subprocess.run([perf, "load", *target, "-w", "randread", "-o", "4096", "-q", "4",
                                "-t", "1"], check=True, capture_output=True)
                host = subprocess.Popen([perf, "connect", *target, "--hold", "30"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)
                continue
            if label == "@grow":
                with open(backing, "r+b") as f:
                    f.truncate(96 << 20)
                continue
            if label == "@disconnect":
                host.send_signal(signal.SIGINT)
                host.wait(10)
                host = None
                time.sleep(0.5)
                continue
            rsp = cli.call(method, params)
            if "error" in rsp:
                out[label] = ("err", rsp["error"].get("code"), rsp["error"].get("message"))
            else:
                out[label] = ("ok", rsp.get("result"))
    finally:
        if host:
            host.kill()
        stop(proc)
    return out


def build_export(cli, backing, port):
    """The state the round trip carries: a bdev with a QoS limit, an exported
    namespace, a listener and an allowed host."""
    for label, method, params in sequence(backing, port):
        if label in ("aio create", "transport", "subsystem", "add ns", "add listener",
                     "add host", "qos"):
            rsp = cli.call(method, params)
            if "error" in rsp:
                raise RuntimeError(f"{method}: {rsp['error']}")


def saved_config(cli):
    """A save_config document the way SPDK's rpc.py builds it."""
    subs = cli.call("framework_get_subsystems")["result"]
    return {"subsystems": [
        {"subsystem": s["subsystem"],
         "config": cli.call("framework_get_config", {"name": s["subsystem"]})["result"]}
        for s in subs]}


def export_view(cli):
    """What a host would see: subsystems (without the discovery one) and bdevs."""
    subs = [s for s in cli.call("nvmf_get_subsystems")["result"] if s["subtype"] == "NVMe"]
    keep = ("nqn", "allow_any_host", "hosts", "serial_number", "model_number")
    view = [{k: s.get(k) for k in keep} for s in subs]
    for v, s in zip(view, subs):
        v["listen"] = [(a["traddr"], a["trsvcid"]) for a in s["listen_addresses"]]
        v["ns"] = [(n["nsid"], n["bdev_name"]) for n in s["namespaces"]]
    bdevs = [(b["name"], b["num_blocks"], b["block_size"], b["assigned_rate_limits"]["rw_ios_per_sec"])
             for b in cli.call("bdev_get_bdevs")["result"]]
    return view, bdevs


def replay(cli, doc, skip, notes):
    """Apply a saved document call by call, as rpc.py's load_config does; the
    calls the receiving target does not implement are skipped (listed in skip).
    bdev_aio_create's "uuid" (which keeps namespace identifiers across restarts)
    exists in SPDK since v24.09: an older SPDK refuses it, so it is dropped
    there and the drop noted."""
    for sub in doc["subsystems"]:
        for call in sub.get("config") or []:
            if call["method"] in skip:
                continue
            params = call.get("params")
            rsp = cli.call(call["method"], params)
            if "error" in rsp and call["method"] == "bdev_aio_create" and "uuid" in params:
                rsp = cli.call(call["method"], {k: v for k, v in params.items() if k != "uuid"})
                notes.append("bdev_aio_create without \"uuid\" (this SPDK predates v24.09)")
            if "error" in rsp:
                return f"{call['method']} {json.dumps(params)}: {rsp['error']}"
    return None


def round_trip(a, workdir):
    """SPDK's saved configuration loads into slio-tgt (its load_config) and ours
    replays on SPDK, each giving the same export. Returns the number of failures."""
    fails = 0
    backing = os.path.join(workdir, "rt.img")
    with open(backing, "wb") as f:
        f.truncate(64 << 20)
    for src, dst in (("spdk", "slio"), ("slio", "spdk")):
        port, notes = free_port(), []
        proc, sock = start(src, a, workdir)
        try:
            cli = Client(sock)
            build_export(cli, backing, port)
            doc, want = saved_config(cli), export_view(cli)
        finally:
            stop(proc)
        proc, sock = start(dst, a, workdir)
        try:
            cli = Client(sock)
            if dst == "slio":
                rsp = cli.call("load_config", doc)
                err = rsp.get("error")
            else:
                methods = set(cli.call("rpc_get_methods")["result"])
                err = replay(cli, doc, {c["method"] for s in doc["subsystems"]
                                        for c in s.get("config") or []} - methods, notes)
            got = export_view(cli)
        finally:
            stop(proc)
        ok = not err and got == want
        fails += 0 if ok else 1
        print(f"{'config ' + src + ' -> ' + dst:<26} {'ok   ' if ok else 'DIFF '} "
              + (f"error: {err}" if err else "same export" if ok else f"{want} vs {got}")
              + "".join(f"; {n}" for n in notes))
    return fails


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(spdk, ours, verbose):
    diffs = 0
    for label in spdk:
        r, o = spdk[label], ours.get(label)
        line = f"{label:<26}"
        if o is None or r[0] != o[0]:
            diffs += 1
            print(f"{line} DIFF  SPDK {r[0]} {r[1:]!s:.120}  slio-tgt {o and o[0]} {o and o[1:]!s:.120}")
            continue
        if r[0] == "err":
            same = r[1] == o[1]
            verdict = "ok   " if same else "known" if label in KNOWN else "DIFF "
            diffs += 0 if same or label in KNOWN else 1
            print(f"{line} {verdict} both fail: SPDK {r[1]} {r[2]!r:.60}"
                  f" | slio-tgt {o[1]} {o[2]!r:.60}")
            continue
        d = {"missing": [], "extra": [], "type": []}
        if label.startswith("~"):  # lists of different calls: compare what they configure
            ref_m = [c.get("method") for c in r[1]]
            our_m = [c.get("method") for c in o[1]]
            print(f"{line} info  both succeed; SPDK: {', '.join(ref_m)} | slio-tgt: {', '.join(our_m)}")
            continue
        compare_shapes(shape(r[1]), shape(o[1]), "result", d)
        bad = d["missing"] + d["type"]
        diffs += 1 if bad else 0
        print(f"{line} {'DIFF ' if bad else 'ok   '} both succeed"
              + (f"; missing in slio-tgt: {', '.join(d['missing'])}" if d["missing"] else "")
              + (f"; type: {', '.join(d['type'])}" if d["type"] else "")
              + (f"; extra in slio-tgt: {', '.join(d['extra'])}" if verbose and d["extra"] else ""))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spdk", type=Path, required=True, help="SPDK's build/ directory")
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list our extra members")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="slio-compat-") as workdir:
        spdk = run_sequence("spdk", a, workdir)
        ours = run_sequence("slio", a, workdir)
        diffs = report(spdk, ours, a.verbose)
        diffs += round_trip(a, workdir)
    print(f"{len(spdk)} calls and 2 configuration round trips, {diffs} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
