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
Then the saved configuration crosses over, both ways and with SPDK's own
client algorithms (saved_config, rpc_py_load_config: rpc.py's, which
refuse a file naming a method the target does not list): SPDK's is loaded
into slio-tgt, ours (written for this SPDK release: --spdk-compat) into a
fresh SPDK started with --wait-for-rpc, and SPDK's through slio-tgt back
into SPDK; each must give the same export (subsystems, hosts, listeners,
namespaces, bdevs, QoS) and nothing may be skipped. Last, SPDK's own
scripts/rpc.py drives both targets (spdk_rpc_py.py) and carries each one's
save_config into the other with its load_config.
Exit status 0 when no difference is found, 1 otherwise. Not part of `make
test` (no SPDK there); see docs/interop.md for the last run.

  tests/compat/spdk_rpc_compat.py --spdk SPDK/build [--build build] [-v]
  tests/compat/spdk_rpc_compat.py --fixtures [--build build]

--fixtures needs no SPDK: the configurations an SPDK nvmf_tgt of each
release in spdk_client.SPDK_SCHEMA writes (tests/compat/spdk_configs/) are loaded into
slio-tgt with rpc.py's algorithm, and slio-tgt's save_config for that
release is checked against that release's decoders (SPDK_SCHEMA, read from
SPDK's sources).

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

import spdk_rpc_py
from spdk_client import RpcPyError, rpc_py_load_config, schema_errors, spdk_release

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


def caller(cli):
    """call(method, params) over a Client: the result, or RpcPyError."""
    def call(method, params):
        rsp = cli.call(method, params)
        if "error" in rsp:
            raise RpcPyError(f"{method} {json.dumps(params)}: {rsp['error']}")
        return rsp.get("result")
    return call


# Differences kept on purpose (docs/tgt-rpc.md, "Errors"): label -> why.
KNOWN = {
    "!params not an object": "ill-typed params are -32602 (JSON-RPC's Invalid params); "
                             "SPDK answers -32603 in some methods, -32602 in others",
}
# Members of SPDK's results slio-tgt leaves out on purpose (docs/tgt-rpc.md,
# "Differences from SPDK"): path -> why.
KNOWN_MEMBERS = {
    "result[].memory_domains": "SPDK's DMA memory domains (a RAM bdev lists the accel "
                               "framework's); slio-tgt has none",
    "result[].thread": "nvmf_subsystem_get_qpairs (v24.09): the controller layer does not "
                       "record a queue's thread",
    "result[].peer_address": "nvmf_subsystem_get_qpairs (v24.09): nor its peer address",
}
# Calls SPDK refuses and slio-tgt accepts on purpose: label -> why.
KNOWN_ACCEPTED = {
    "add listener again": "SPDK up to v24.01 succeeds, from v24.05 answers -32602; slio-tgt "
                          "succeeds (issue 18: scripts and the agent retry)",
}
# SPDK answers a subsystem call made while the previous one still pauses or
# resumes it with this -32603; every client must try again.
SPDK_BUSY = "another state change"


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
        ("!aio create bad block size", "bdev_aio_create",
         {"filename": backing, "name": "c1", "block_size": 1000}),
        ("malloc create", "bdev_malloc_create", {"name": "m0", "num_blocks": 2048,
                                                 "block_size": 512}),
        ("!malloc create duplicate", "bdev_malloc_create", {"name": "m0", "num_blocks": 2048,
                                                            "block_size": 512}),
        ("!malloc create bad block size", "bdev_malloc_create",
         {"name": "m1", "num_blocks": 2048, "block_size": 1000}),
        ("malloc bdev", "bdev_get_bdevs", {"name": "m0"}),
        ("!aio delete of a malloc bdev", "bdev_aio_delete", {"name": "m0"}),
        ("malloc delete", "bdev_malloc_delete", {"name": "m0"}),
        ("!malloc delete again", "bdev_malloc_delete", {"name": "m0"}),
        ("wait for examine", "bdev_wait_for_examine", None),
        ("bdevs", "bdev_get_bdevs", None),
        ("bdevs by name", "bdev_get_bdevs", {"name": "c0"}),
        ("!bdevs unknown name", "bdev_get_bdevs", {"name": "nope"}),
        ("transport", "nvmf_create_transport", {"trtype": "TCP"}),
        ("!transport again", "nvmf_create_transport", {"trtype": "TCP"}),
        ("transports", "nvmf_get_transports", None),
        ("subsystem", "nvmf_create_subsystem",
         {"nqn": NQN, "serial_number": "SLIOCOMPAT0001", "model_number": "compat",
          "ana_reporting": True}),
        ("!subsystem duplicate", "nvmf_create_subsystem", {"nqn": NQN}),
        ("!subsystem bad nqn", "nvmf_create_subsystem", {"nqn": "not-an-nqn"}),
        ("add ns", "nvmf_subsystem_add_ns", {"nqn": NQN, "namespace": {"bdev_name": "c0"}}),
        ("!add ns unknown bdev", "nvmf_subsystem_add_ns",
         {"nqn": NQN, "namespace": {"bdev_name": "nope"}}),
        ("add listener", "nvmf_subsystem_add_listener", {"nqn": NQN, "listen_address": la}),
        ("add listener again", "nvmf_subsystem_add_listener",
         {"nqn": NQN, "listen_address": la}),
        ("listeners", "nvmf_subsystem_get_listeners", {"nqn": NQN}),
        ("!listeners unknown nqn", "nvmf_subsystem_get_listeners", {"nqn": NQN + "x"}),
        ("ana state", "nvmf_subsystem_listener_set_ana_state",
         {"nqn": NQN, "listen_address": la, "ana_state": "non_optimized"}),
        ("ana state one group", "nvmf_subsystem_listener_set_ana_state",
         {"nqn": NQN, "listen_address": la, "ana_state": "inaccessible", "anagrpid": 1}),
        ("!ana state bad", "nvmf_subsystem_listener_set_ana_state",
         {"nqn": NQN, "listen_address": la, "ana_state": "fast"}),
        ("!ana state unknown listener", "nvmf_subsystem_listener_set_ana_state",
         {"nqn": NQN, "listen_address": dict(la, trsvcid="1"), "ana_state": "optimized"}),
        ("listeners with ana", "nvmf_subsystem_get_listeners", {"nqn": NQN}),
        # SPDK refuses I/O on an inaccessible path (ANA Inaccessible): usable again
        # before the host connects. slio-tgt does not report ANA to hosts yet.
        ("ana state back", "nvmf_subsystem_listener_set_ana_state",
         {"nqn": NQN, "listen_address": la, "ana_state": "optimized", "anagrpid": 1}),
        ("add host", "nvmf_subsystem_add_host", {"nqn": NQN, "host": HOST}),
        ("subsystems", "nvmf_get_subsystems", None),
        ("subsystems by nqn", "nvmf_get_subsystems", {"nqn": NQN}),
        ("@connect", None, None),
        ("controllers", "nvmf_subsystem_get_controllers", {"nqn": NQN}),
        ("qpairs", "nvmf_subsystem_get_qpairs", {"nqn": NQN}),
        ("!qpairs unknown nqn", "nvmf_subsystem_get_qpairs", {"nqn": NQN + "x"}),
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


def start(kind, a, workdir, extra=()):
    sock = os.path.join(workdir, f"{kind}.sock")
    if kind == "spdk":
        env = dict(os.environ, LD_LIBRARY_PATH=str(a.spdk / "lib"))
        argv = [str(a.spdk / "bin/nvmf_tgt"), "-m", "0x1", "-s", "1024", "-r", sock,
                "--disable-cpumask-locks", *extra]
    else:
        env = None
        argv = [str(a.build / "tgt/slio-tgt"), "-r", sock, "--reactors", "1", *extra]
    if os.path.exists(sock):  # left by a target killed after its stop timeout
        os.unlink(sock)
    log = os.path.join(workdir, f"{kind}.log")
    with open(log, "a") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(600):  # until it accepts: the socket file exists just before listen()
        if proc.poll() is not None:
            break
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(sock)
            return proc, sock
        except OSError:
            time.sleep(0.05)
    proc.kill()
    with open(log) as f:
        sys.exit(f"compat: {kind} target not answering on {sock}:\n{f.read()[-3000:]}")


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
            rsp = call_when_settled(cli, method, params)
            if "error" in rsp:
                out[label] = ("err", rsp["error"].get("code"), rsp["error"].get("message"))
            else:
                out[label] = ("ok", rsp.get("result"))
    finally:
        if host:
            host.kill()
        stop(proc)
    return out


def call_when_settled(cli, method, params, timeout=10.0):
    """cli.call, again while SPDK answers that the subsystem is changing state."""
    deadline = time.monotonic() + timeout
    while True:
        rsp = cli.call(method, params)
        busy = SPDK_BUSY in str(rsp.get("error", {}).get("message", ""))
        if not busy or time.monotonic() > deadline:
            return rsp
        time.sleep(0.05)


def build_export(cli, backing, port):
    """The state the round trip carries: a bdev with a QoS limit, a RAM bdev,
    an exported namespace, a listener with an ANA state and an allowed host."""
    for label, method, params in sequence(backing, port):
        if label in ("aio create", "malloc create", "transport", "subsystem", "add ns",
                     "add listener", "ana state one group", "add host", "qos"):
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
        groups = {n["nsid"] for n in s["namespaces"]}  # SPDK also lists unused groups
        v["ana"] = [(li["address"]["trsvcid"],
                     sorted((g["ana_group"], g["ana_state"]) for g in li.get("ana_states", [])
                            if g["ana_group"] in groups))
                    for li in cli.call("nvmf_subsystem_get_listeners", {"nqn": s["nqn"]})["result"]]
    bdevs = [(b["name"], b["num_blocks"], b["block_size"], b["assigned_rate_limits"]["rw_ios_per_sec"])
             for b in cli.call("bdev_get_bdevs")["result"]]
    return view, bdevs


def load_leg(a, workdir, dst, doc, extra=()):
    """Start dst (SPDK with --wait-for-rpc, so its startup methods apply),
    load doc with rpc.py's algorithm; (error or None, export, saved doc)."""
    proc, sock = start(dst, a, workdir, extra)
    try:
        cli = Client(sock)
        try:
            skipped = rpc_py_load_config(caller(cli), doc)
            err = f"skipped: {', '.join(skipped)}" if skipped else None
        except RpcPyError as e:
            err = str(e)
        return err, export_view(cli), saved_config(cli)
    finally:
        stop(proc)


def round_trip(a, workdir):
    """Configurations cross over with rpc.py's save_config/load_config: SPDK's
    into slio-tgt (rpc.py and slio-tgt's own load_config), ours written for
    this SPDK release into SPDK, and SPDK's through slio-tgt back into SPDK.
    Each must give the same export, nothing skipped. Returns the failures and
    SPDK's release ("vYY.MM")."""
    backing = os.path.join(workdir, "rt.img")
    with open(backing, "wb") as f:
        f.truncate(64 << 20)
    exports = {}
    for src in ("spdk", "slio"):
        proc, sock = start(src, a, workdir, ["--spdk-compat", exports["release"]]
                           if src == "slio" else [])
        try:
            cli = Client(sock)
            if src == "spdk":
                exports["release"] = spdk_release(cli.call("spdk_get_version")["result"])
            build_export(cli, backing, free_port())
            exports[src] = saved_config(cli), export_view(cli)
        finally:
            stop(proc)
    wait = ["--wait-for-rpc"]
    # slio-tgt writes for the SPDK release the file goes on to (--spdk-compat)
    compat = ["--spdk-compat", exports["release"]]
    legs = [("spdk -> slio (rpc.py)", "slio", exports["spdk"], compat),
            ("slio -> spdk (rpc.py)", "spdk", exports["slio"], wait)]
    fails = 0
    for name, dst, (doc, want), extra in legs:
        err, got, saved = load_leg(a, workdir, dst, doc, extra)
        fails += report_leg(name, err, want, got)
        if dst == "slio":  # and on to SPDK, with SPDK's options carried through slio-tgt
            err, got, _ = load_leg(a, workdir, "spdk", saved, wait)
            fails += report_leg("spdk -> slio -> spdk", err, want, got)
    proc, sock = start("slio", a, workdir)
    try:  # slio-tgt's server-side load_config (what -c does) with SPDK's file
        cli = Client(sock)
        err = cli.call("load_config", exports["spdk"][0]).get("error")
        fails += report_leg("spdk -> slio (load_config)", err, exports["spdk"][1],
                            export_view(cli))
    finally:
        stop(proc)
    return fails, exports["release"]


def without_ana(export):
    """SPDK's save_config keeps no ANA state: legs from SPDK compare without them."""
    view, bdevs = export
    return [{k: v for k, v in s.items() if k != "ana"} for s in view], bdevs


def report_leg(name, err, want, got):
    if name.startswith("spdk"):
        want, got = without_ana(want), without_ana(got)
    ok = not err and got == want
    print(f"{'config ' + name:<34} {'ok   ' if ok else 'DIFF '} "
          + (f"error: {err}" if err else "same export" if ok else f"{want} vs {got}"))
    return 0 if ok else 1


def fixtures(a, workdir):
    """Without SPDK: each SPDK-written configuration of tests/compat/spdk_configs
    loads into slio-tgt with rpc.py's algorithm, nothing skipped, and
    slio-tgt's save_config for that release passes its decoders. Returns the
    failures."""
    fails = 0
    for path in sorted((REPO / "tests/compat/spdk_configs").glob("*.json")):
        release = path.stem
        doc = json.loads(path.read_text().replace("@BACKING@", os.path.join(workdir, "fx.img")))
        with open(os.path.join(workdir, "fx.img"), "wb") as f:
            f.truncate(16 << 20)
        err, _, _ = load_leg(a, workdir, "slio", doc)
        proc, sock = start("slio", a, workdir, ["--spdk-compat", release])
        try:
            cli = Client(sock)
            rpc_py_load_config(caller(cli), doc)
            bad = schema_errors(saved_config(cli), release) + schema_errors(
                cli.call("save_config", {"spdk_version": release})["result"], release)
        finally:
            stop(proc)
        ok = not err and not bad
        fails += 0 if ok else 1
        print(f"{'fixture ' + path.name:<34} {'ok   ' if ok else 'DIFF '} "
              + (err or "; ".join(bad) or "loads with rpc.py; saved for " + release + " fits"))
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
        if o is not None and r[0] == "err" and o[0] == "ok" and label in KNOWN_ACCEPTED:
            print(f"{line} known SPDK {r[1:]!s:.80}, slio-tgt succeeds (docs/tgt-rpc.md)")
            continue
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
        known = [m for m in d["missing"] if m in KNOWN_MEMBERS]
        missing = [m for m in d["missing"] if m not in KNOWN_MEMBERS]
        bad = missing + d["type"]
        diffs += 1 if bad else 0
        print(f"{line} {'DIFF ' if bad else 'known' if known else 'ok   '} both succeed"
              + (f"; missing in slio-tgt: {', '.join(missing)}" if missing else "")
              + (f"; left out on purpose: {', '.join(known)}" if known else "")
              + (f"; type: {', '.join(d['type'])}" if d["type"] else "")
              + (f"; extra in slio-tgt: {', '.join(d['extra'])}" if verbose and d["extra"] else ""))
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spdk", type=Path, help="SPDK's build/ directory")
    ap.add_argument("--fixtures", action="store_true",
                    help="only the SPDK-written configurations, against slio-tgt (no SPDK)")
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list our extra members")
    a = ap.parse_args()
    if a.fixtures:
        with tempfile.TemporaryDirectory(prefix="slio-compat-") as workdir:
            return 1 if fixtures(a, workdir) else 0
    if not a.spdk:
        ap.error("--spdk is required (or --fixtures)")
    with tempfile.TemporaryDirectory(prefix="slio-compat-") as workdir:
        spdk = run_sequence("spdk", a, workdir)
        ours = run_sequence("slio", a, workdir)
        diffs = report(spdk, ours, a.verbose)
        fails, release = round_trip(a, workdir)
        diffs += fails
        rpc_py = len(spdk_rpc_py.commands("", 0))
        diffs += spdk_rpc_py.run(a, workdir, release, start, stop, export_view, report_leg,
                                 free_port, KNOWN_ACCEPTED)
    print(f"SPDK {release}: {len(spdk)} calls, 4 configuration crossings, {rpc_py} rpc.py "
          f"commands and 2 crossings with rpc.py, {diffs} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
