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
4. slio-bench-get: GET /v1/volumes/{id} for random ids, CLIENTS concurrent
   keep-alive clients, SECONDS long: p50 / p99.

Targets (issue 13): p99 < 5 ms with 200 clients; serving < 5 s with 100,000 volumes.
  bench/api/run.py [--volumes 100000] [--clients 200] [--seconds 10] [--build build]
"""
import argparse
import json
import os
import random
import sqlite3
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--volumes", type=int, default=100000)
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()

    import pytest  # controller_proc reports failures through pytest.fail
    from controller_proc import Agent, Controller, TOKENS
    from conftest import BUILD

    with tempfile.TemporaryDirectory() as tmp:
        ctl = Controller(tmp, limits={"max_connections": 1024,
                                      "max_connections_per_ip": 1024}).start()
        nodes = [f"node-{i:03d}" for i in range(args.nodes)]
        for n in nodes:
            Agent(ctl, n, pools=[{"name": "vg0", "engine": "lvm", "capacity": 100 << 40,
                                  "free": 100 << 40}]).register()
        ctl.stop()
        ids = populate(ctl.config["store"]["path"], args.volumes, nodes)
        print(f"store: {args.volumes} volumes on {args.nodes} nodes "
              f"({os.path.getsize(ctl.config['store']['path']) >> 20} MiB)")

        ctl.start(timeout=120)
        print(f"restart to serving: {ctl.start_seconds:.2f} s with {args.volumes} volumes "
              f"(target < 5 s)")
        sample = random.sample(ids, min(len(ids), 10000))
        idfile = Path(tmp) / "ids"
        idfile.write_text("\n".join(sample) + "\n")
        got = ctl.ok("GET", f"/v1/volumes/{sample[0]}")
        assert got["phase"] == "ready", got
        pool = ctl.ok("GET", "/v1/nodes/node-000/pools/vg0")
        print(f"view check: node-000/vg0 holds {pool['volumes']} volumes, "
              f"{pool['reserved'] / GiB:.0f} GiB reserved")
        import subprocess
        r = subprocess.run([str(BUILD / "bench/api/slio-bench-get"), ctl.url, TOKENS["readonly"],
                            str(idfile), str(args.clients), str(args.seconds)])
        ctl.stop()
        return r.returncode


if __name__ == "__main__":
    sys.exit(main())
