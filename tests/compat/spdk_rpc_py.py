# SPDX-License-Identifier: Apache-2.0
"""SPDK's own scripts/rpc.py (the SPDK build's, not a copy) driving SPDK's
nvmf_tgt and slio-tgt, for tests/compat/spdk_rpc_compat.py: the same
command lines on both targets must both succeed or both fail with the same
JSON-RPC error code (issue 18's methods: bdev_malloc_create/delete, an
invalid AIO block size, an existing listener added again,
nvmf_subsystem_get_listeners, nvmf_subsystem_listener_set_ana_state,
nvmf_subsystem_get_qpairs); then `rpc.py save_config` of each target goes
through `rpc.py load_config` into the other (SPDK started with
--wait-for-rpc, slio-tgt writing for the SPDK's release) and must give the
same export.
"""
import json
import os
import re
import subprocess
import tempfile

NQN = "nqn.2024-01.io.slite:rpcpy"
HOST = "nqn.2014-08.org.nvmexpress:uuid:0f6c3b1e-2d4a-4c8e-9b7a-6e5d4c3b2a10"


def commands(backing, port):
    """(label, rpc.py argv); a label starting with '!' expects a failure."""
    la = ["-t", "tcp", "-f", "ipv4", "-a", "127.0.0.1", "-s", str(port)]
    return [
        ("malloc create", ["bdev_malloc_create", "-b", "m0", "8", "512"]),
        ("malloc create to delete", ["bdev_malloc_create", "-b", "m1", "4", "4096"]),
        ("malloc delete", ["bdev_malloc_delete", "m1"]),
        ("!malloc delete again", ["bdev_malloc_delete", "m1"]),
        ("aio create", ["bdev_aio_create", backing, "c0", "512"]),
        ("!aio create bad block size", ["bdev_aio_create", backing, "c1", "1000"]),
        ("qos", ["bdev_set_qos_limit", "c0", "--rw_ios_per_sec", "10000"]),
        ("transport", ["nvmf_create_transport", "-t", "TCP"]),
        ("subsystem", ["nvmf_create_subsystem", NQN, "-s", "SLIORPCPY0001", "-r", "-m", "4"]),
        ("add ns aio", ["nvmf_subsystem_add_ns", NQN, "c0"]),
        ("add ns malloc", ["nvmf_subsystem_add_ns", NQN, "m0"]),
        ("add host", ["nvmf_subsystem_add_host", NQN, HOST]),
        ("add listener", ["nvmf_subsystem_add_listener", NQN, *la]),
        ("add listener again", ["nvmf_subsystem_add_listener", NQN, *la]),
        ("listeners", ["nvmf_subsystem_get_listeners", NQN]),
        ("ana state", ["nvmf_subsystem_listener_set_ana_state", NQN, *la, "-n", "non_optimized"]),
        ("ana state group 2", ["nvmf_subsystem_listener_set_ana_state", NQN, *la,
                               "-n", "inaccessible", "-g", "2"]),
        ("!ana state bad", ["nvmf_subsystem_listener_set_ana_state", NQN, *la, "-n", "fast"]),
        ("qpairs", ["nvmf_subsystem_get_qpairs", NQN]),
        ("!qpairs unknown", ["nvmf_subsystem_get_qpairs", NQN + "x"]),
    ]


class RpcPy:
    def __init__(self, spdk_build, sock):
        self.script = str(spdk_build.parent / "scripts/rpc.py")
        self.sock = sock

    def run(self, argv, stdin=None):
        """(ok, stdout, JSON-RPC error code or None)"""
        r = subprocess.run(["/usr/bin/python3", self.script, "-s", self.sock, "-t", "20", *argv],
                           input=stdin, capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            return True, r.stdout, None
        text = r.stdout + r.stderr  # rpc.py prints the error response on stdout
        m = re.search(r'"code":\s*(-?\d+)', text)
        return False, text, int(m.group(1)) if m else None


def run_commands(rpc, backing, port):
    """label -> (ok, error code)"""
    out = {}
    for label, argv in commands(backing, port):
        ok, text, code = rpc.run(argv)
        if ok and label in ("listeners", "qpairs"):
            json.loads(text)  # rpc.py printed a JSON result
        out[label] = (ok, code)
    return out


def compare(spdk, ours, known_accepted=()):
    """Print one line per command; return the number of differences. A label in
    known_accepted may fail on SPDK and succeed on slio-tgt."""
    diffs = 0
    for label, want in spdk.items():
        got = ours[label]
        expect_ok = not label.startswith("!")
        same = got == want and want[0] == expect_ok and (want[0] or want[1] is not None)
        known = not want[0] and got[0] and label in known_accepted
        diffs += 0 if same or known else 1
        verdict = "ok   " if same else "known" if known else "DIFF "
        print(f"{'rpc.py ' + label:<34} {verdict} "
              f"SPDK {'ok' if want[0] else want[1]} | slio-tgt {'ok' if got[0] else got[1]}")
    return diffs


def run(a, workdir, release, start, stop, export_view, report_leg, free_port, known_accepted):
    """The rpc.py stage; returns the number of differences."""
    backing = os.path.join(workdir, "rpcpy.img")
    with open(backing, "wb") as f:
        f.truncate(32 << 20)
    results, saved, views = {}, {}, {}
    for kind, extra in (("spdk", ()), ("slio", ("--spdk-compat", release))):
        proc, sock = start(kind, a, workdir, list(extra))
        try:
            rpc = RpcPy(a.spdk, sock)
            results[kind] = run_commands(rpc, backing, free_port())
            ok, text, _ = rpc.run(["save_config"])
            saved[kind] = text if ok else None
            views[kind] = export_view(client_for(sock))
        finally:
            stop(proc)
    diffs = compare(results["spdk"], results["slio"], known_accepted)
    for src, dst, extra in (("spdk", "slio", ()), ("slio", "spdk", ("--wait-for-rpc",))):
        name = f"{src} -> {dst} (SPDK's rpc.py)"
        if saved[src] is None:
            print(f"{'config ' + name:<34} DIFF  rpc.py save_config failed on {src}")
            diffs += 1
            continue
        proc, sock = start(dst, a, workdir, list(extra))
        try:
            with tempfile.NamedTemporaryFile("w", dir=workdir, suffix=".json") as f:
                f.write(saved[src])
                f.flush()
                ok, text, _ = RpcPy(a.spdk, sock).run(["load_config", "-j", f.name])
            diffs += report_leg(name, None if ok else text.strip()[-300:], views[src],
                                export_view(client_for(sock)))
        finally:
            stop(proc)
    return diffs


def client_for(sock):
    from spdk_rpc_compat import Client
    return Client(sock)
