#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""bench/api: slio-controller's REST latency and restart time on SQLite.

1. Start a controller on a temp SQLite file, register NODES nodes through the
   agent endpoint, stop it.
2. Write VOLUMES ready volume documents (and their name and node indexes)
   straight into the SQLite file in one transaction, shaped exactly like the
   controller's own (a bench shortcut: 100,000 creates through the API would
   mostly measure fsync).
3. Restart: the time from exec to the first 200 from /v1/health (the view is
   rebuilt from every volume before the HTTP server starts).
4. slio-bench-get (get_latency.c: one epoll thread, CLIENTS keep-alive
   connections, ids drawn at random from all VOLUMES), GET /v1/volumes/{id}:
   - closed loop: every client sends its next request when the answer to the
     previous one arrived: throughput and latency at saturation (by Little's
     law mean latency = CLIENTS / throughput there, whatever the server does);
   - open loop at each offered load of --rates (requests/s over all clients,
     each client on its own schedule, --poisson for exponential gaps): latency
     from the intended send time, so waiting behind a slow answer counts;
   each with p50/p90/p99/p99.9/max and the CPU of the server and of the client
   over the measured interval; then the highest offered load whose p99 stayed
   under 5 ms.
With --before DIR a second controller built in DIR (e.g. the commit before a
change) gets the same store and the same cases, interleaved case by case with
this build's (this machine is shared and its speed drifts; runs far apart are
not comparable), so the figures side by side are a before/after.

Targets (issue 13): p99 < 5 ms with 200 clients; serving < 5 s with 100,000 volumes.
  bench/api/run.py [--volumes 100000] [--clients 200] [--seconds 10] [--build DIR]
                   [--rates 1000,2000,...] [--poisson] [--repeat N] [--before DIR] [--pin]
                   [--json]
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
os.environ.setdefault("SLIO_BUILD", str(REPO / "build"))

GiB = 1 << 30


def volume_docs(n, nodes, start_rev):
    for i in range(n):
        vid = str(uuid.UUID(int=(0x0190A8F0 << 96) | (i << 64) | 0x7000_8000_0000_0000
                            | random.getrandbits(48)))
        node = nodes[i % len(nodes)]
        spec = {"name": f"bench-{i:06d}", "size": GiB, "thin": False, "fs_type": "",
                "position": "any", "consumer_node": None, "node_selector": None,
                "pool_selector": None, "spread": None, "source": None,
                "qos": {"rw_ios_per_sec": 0, "rw_mbytes_per_sec": 0, "r_mbytes_per_sec": 0,
                        "w_mbytes_per_sec": 0}, "labels": None}
        doc = dict(spec, id=vid, phase="ready", message="", node=node, pool="vg0",
                   device=f"/dev/vg0/{vid}", nqn=f"nqn.2024-01.io.slite:vol:{vid}",
                   attachments=[], created_at="2026-01-01T00:00:00.000Z", _spec=spec)
        yield vid, spec["name"], node, json.dumps(doc, separators=(",", ":"))


def populate(db, n, nodes):
    con = sqlite3.connect(db)
    rev = con.execute("SELECT v FROM meta WHERE k = 'revision'").fetchone()[0] + 1
    ids = []
    rows = []
    for vid, name, node, doc in volume_docs(n, nodes, rev):
        ids.append(vid)
        rows += [(f"/slio/volumes/{vid}", doc.encode(), rev, rev),
                 (f"/slio/names/volumes/{name}", vid.encode(), rev, rev),
                 (f"/slio/bynode/{node}/v/{vid}", b'["vg0",%d,false,null,null]' % GiB, rev,
                  rev)]
    with con:
        con.executemany("INSERT INTO kv(key, value, create_rev, mod_rev) VALUES (?, ?, ?, ?)", rows)
        con.execute("UPDATE meta SET v = ? WHERE k = 'revision'", (rev,))
    con.close()
    return ids


def start_controller(root, exe, db, tmp, name):
    """A controller on a copy of db, run from exe (the build's or --before's)."""
    from controller_proc import Controller

    class Runner(Controller):
        def spawn(self):
            self.starts += 1
            self.logpath = self.dir / f"controller.{self.starts}.log"
            self.log = open(self.logpath, "w")
            self.proc = subprocess.Popen([str(exe), "-c", str(self.cfgpath)], stdout=self.log,
                                         stderr=subprocess.STDOUT)

    d = Path(tmp) / name
    d.mkdir()
    ctl = Runner(d, limits={"max_connections": 1024, "max_connections_per_ip": 1024})
    shutil.copyfile(db, ctl.config["store"]["path"])
    ctl.start(timeout=120)
    return ctl


def bench_get(build, ctl, idfile, a, rate=0):
    from controller_proc import TOKENS
    cmd = [str(build / "bench/api/slio-bench-get"), "--json", "--server-pid", str(ctl.proc.pid)]
    if rate:
        cmd += ["--rate", str(rate)] + (["--poisson"] if a.poisson else [])
    if a.pin:
        cmd += ["--cpu", str(os.cpu_count() - 1)]
    cmd += [ctl.url, TOKENS["readonly"], str(idfile), str(a.clients), str(a.seconds)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if not r.stdout.strip():
        sys.exit(f"slio-bench-get failed ({r.returncode}): {r.stderr}")
    return json.loads(r.stdout)


def line(name, m):
    what = f"offered {m['offered']:6.0f}/s" if m["offered"] else "closed loop   "
    return (f"  {name:7s} {what}: {m['rps']:7.0f} req/s  p50 {m['p50_ms']:6.2f}  "
            f"p90 {m['p90_ms']:6.2f}  p99 {m['p99_ms']:7.2f}  p99.9 {m['p999_ms']:7.2f}  "
            f"max {m['max_ms']:7.2f} ms  err {m['errors']}  CPU server {m['server_cpu_pct']:.0f}% "
            f"client {m['client_cpu_pct']:.0f}%  server {cpu_us(m):.0f} us/req")


def cpu_us(m):
    """Server CPU per request in µs: steadier than latency on a shared machine."""
    return m["server_cpu_pct"] / 100 * 1e6 / m["rps"] if m["rps"] else 0


def median_run(ms):
    """The run with the median p99 of a case's repeats."""
    return sorted(ms, key=lambda m: m["p99_ms"])[len(ms) // 2]


def passed(m, limit_ms=5.0):
    return not m["errors"] and m["p99_ms"] < limit_ms and m["rps"] >= 0.97 * m["offered"]


def holds_up_to(results):
    """The highest offered load (ascending sweep) before the first one that missed p99 < 5 ms."""
    best = None
    for m in results:
        if not passed(m):
            break
        best = m
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--volumes", type=int, default=100000)
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rates", default="1000,2000,3000,4000,6000,8000,10000",
                    help="offered loads (requests/s over all clients) of the open-loop runs")
    ap.add_argument("--poisson", action="store_true", help="exponential gaps in the open loop")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of every case, interleaved between the runners; the median "
                         "(by p99) is the case's figure")
    ap.add_argument("--pin", action="store_true", help="the client on the last CPU")
    ap.add_argument("--build", type=Path, default=REPO / "build")
    ap.add_argument("--before", type=Path, metavar="DIR",
                    help="another build directory: its slio-controller in the same rounds")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rates = [int(x) for x in a.rates.split(",") if x]
    os.environ["SLIO_BUILD"] = str(a.build)
    runners = {"after" if a.before else "build": a.build / "controller/slio-controller"}
    if a.before:
        runners["before"] = a.before / "controller/slio-controller"
    for exe in runners.values():
        if not os.access(exe, os.X_OK):
            ap.error(f"no executable {exe}")

    import pytest  # noqa: F401 (controller_proc reports failures through pytest.fail)
    from controller_proc import Agent, Controller

    out = {"load_before": os.getloadavg()[0], "cases": []}
    with tempfile.TemporaryDirectory() as tmp:
        ctl = Controller(tmp, limits={"max_connections": 1024,
                                      "max_connections_per_ip": 1024}).start()
        nodes = [f"node-{i:03d}" for i in range(a.nodes)]
        for n in nodes:
            Agent(ctl, n, pools=[{"name": "vg0", "engine": "lvm", "capacity": 100 << 40,
                                  "free": 100 << 40}]).register()
        ctl.stop()
        db = ctl.config["store"]["path"]
        ids = populate(db, a.volumes, nodes)
        print(f"store: {a.volumes} volumes on {a.nodes} nodes ({os.path.getsize(db) >> 20} MiB); "
              f"load average {out['load_before']:.1f} on {os.cpu_count()} CPUs")
        idfile = Path(tmp) / "ids"
        idfile.write_text("\n".join(ids) + "\n")
        ctls = {}
        try:
            for name, exe in runners.items():
                ctls[name] = start_controller(REPO, exe, db, tmp, name)
                print(f"{name}: restart to serving {ctls[name].start_seconds:.2f} s with "
                      f"{a.volumes} volumes (target < 5 s)")
                got = ctls[name].ok("GET", f"/v1/volumes/{ids[0]}")
                assert got["phase"] == "ready", got
            print(f"GET /v1/volumes/{{id}}, {a.clients} clients, {a.seconds} s each "
                  f"(+1 s warm-up), latency in ms:")
            results = {name: [] for name in runners}
            best_runs = {name: [] for name in runners}
            for rate in [0] + rates:
                runs = {name: [] for name in runners}
                for _ in range(a.repeat):
                    for name, c in ctls.items():
                        m = bench_get(a.build, c, idfile, a, rate)
                        m["runner"] = name
                        out["cases"].append(m)
                        runs[name].append(m)
                        if not a.json:
                            print(line(name, m), flush=True)
                for name, ms in runs.items():
                    med = median_run(ms)
                    if a.repeat > 1 and not a.json:
                        print(line(name, med).replace("  ", "  median ", 1) +
                              f" (p99 over runs {min(x['p99_ms'] for x in ms):.2f}.."
                              f"{max(x['p99_ms'] for x in ms):.2f})")
                    if rate:
                        results[name].append(med)
                        best_runs[name].append(min(ms, key=lambda m: m["p99_ms"]))
        finally:
            for c in ctls.values():
                c.stop()
    out["load_after"] = os.getloadavg()[0]
    for name in runners:
        for how, rs in (("median run", results[name]), ("best run", best_runs[name])):
            if how == "best run" and a.repeat == 1:
                continue
            ok = [f"{m['offered']:.0f}" for m in rs if passed(m)]
            if not a.json:
                print(f"{name} ({how} of each load): p99 < 5 ms at {', '.join(ok) or 'none'} "
                      f"of the offered loads")
            best = holds_up_to(rs)
            out[f"{name}_{how.split()[0]}_p99_under_5ms_up_to"] = best["offered"] if best else 0
            if not a.json:
                print(f"{name} ({how} of each load): p99 < 5 ms up to {best['offered']:.0f} req/s "
                      f"offered (p99 {best['p99_ms']:.2f} ms)" if best else
                      f"{name} ({how} of each load): p99 >= 5 ms at every offered load")
    if a.json:
        print(json.dumps(out))
    else:
        print(f"load average after: {out['load_after']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
