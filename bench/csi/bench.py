#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/csi: slio-csi's figures on this machine with the file engine.

  1. CreateVolume → NodeStageVolume → NodePublishVolume of a local volume
     (block mode, bind mounts), end to end, N rounds: median / p90 / max.
  2. 50 parallel CreateVolume calls: wall time, all distinct, nothing
     overbooked (the pool's reservation equals what was asked).

Runs the real slio-controller (SQLite), a slio-agent on the file engine with
slio-tgt, and slio-csi --mode all, from $SLIO_BUILD (default build/). Needs
root (bind mounts) and Debian's python3 with grpcio + grpc-tools:
  sudo /usr/bin/python3 bench/csi/bench.py [--rounds 20] [--parallel 50]
Not a test: it prints figures (and exits 1 only if an operation fails).
"""
import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))

from conftest import Target, binary, free_port  # noqa: E402
from controller_proc import Controller  # noqa: E402
from csi_helpers import Csi, generate_stubs  # noqa: E402
from agent_helpers import Agent  # noqa: E402

MiB = 1 << 20


def start_cluster(tmp, pb2, pb2_grpc):
    tgt = Target(tmp, free_port())
    tgt.start()
    ctl = Controller(tmp).start()
    adir = tmp / "agent"
    adir.mkdir()
    agent = Agent(adir, tgt, ctl, capacity="100Gi")
    agent.conf.write_text(agent.conf.read_text().replace(
        "  urls:", f"  token_file: \"{ctl.dir / 'agent.token'}\"\n  urls:"))
    agent.start()
    ctl.wait_for("node n1", lambda: ctl.call("GET", "/v1/nodes/n1")[0] == 200, 15)
    cdir = tmp / "csi"
    cdir.mkdir()
    csi = Csi(binary("csi/slio-csi"), cdir, ctl.url, pb2, pb2_grpc,
              extra=["--mountinfo", "/proc/self/mountinfo", "--node-id", "n1",
                     "--token-file", str(ctl.dir / "csi.token")])
    return tgt, ctl, agent, csi


def block_cap(pb2):
    return pb2.VolumeCapability(block=pb2.VolumeCapability.BlockVolume(),
                                access_mode=pb2.VolumeCapability.AccessMode(mode=1))


def one_round(csi, pb2, tmp, i):
    cap = block_cap(pb2)
    staging, target = tmp / f"stage-{i}", tmp / f"pod-{i}"
    t0 = time.monotonic()
    v = csi.controller.CreateVolume(pb2.CreateVolumeRequest(
        name=f"bench-e2e-{i}", capacity_range=pb2.CapacityRange(required_bytes=64 * MiB),
        volume_capabilities=[cap]), timeout=30).volume
    csi.node.NodeStageVolume(pb2.NodeStageVolumeRequest(
        volume_id=v.volume_id, staging_target_path=str(staging), volume_capability=cap), timeout=30)
    csi.node.NodePublishVolume(pb2.NodePublishVolumeRequest(
        volume_id=v.volume_id, staging_target_path=str(staging), target_path=str(target),
        volume_capability=cap), timeout=30)
    elapsed = time.monotonic() - t0
    csi.node.NodeUnpublishVolume(pb2.NodeUnpublishVolumeRequest(volume_id=v.volume_id,
                                                                target_path=str(target)))
    csi.node.NodeUnstageVolume(pb2.NodeUnstageVolumeRequest(volume_id=v.volume_id,
                                                            staging_target_path=str(staging)))
    csi.controller.DeleteVolume(pb2.DeleteVolumeRequest(volume_id=v.volume_id))
    return elapsed


def parallel_creates(csi, pb2, ctl, n):
    cap = block_cap(pb2)

    def create(i):
        return csi.controller.CreateVolume(pb2.CreateVolumeRequest(
            name=f"bench-par-{i}", capacity_range=pb2.CapacityRange(required_bytes=256 * MiB),
            volume_capabilities=[cap]), timeout=60).volume.volume_id
    t0 = time.monotonic()
    with ThreadPoolExecutor(n) as ex:
        ids = list(ex.map(create, range(n)))
    wall = time.monotonic() - t0
    pool = ctl.ok("GET", "/v1/pools")["items"][0]
    return wall, len(set(ids)), pool["reserved"], n * 256 * MiB


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="slio-bench-csi-") as d:
        tmp = Path(d)
        (tmp / "stubs").mkdir()
        pb2, pb2_grpc = generate_stubs(tmp / "stubs")
        tgt, ctl, agent, csi = start_cluster(tmp, pb2, pb2_grpc)
        try:
            times = [one_round(csi, pb2, tmp, i) for i in range(args.rounds)]
            times.sort()
            p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
            print(f"CreateVolume→NodeStage→NodePublish (local, block), {args.rounds} rounds: "
                  f"median {statistics.median(times) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
                  f"max {times[-1] * 1000:.0f} ms (goal < 1000 ms)")
            wall, distinct, reserved, asked = parallel_creates(csi, pb2, ctl, args.parallel)
            print(f"{args.parallel} parallel CreateVolume: {wall * 1000:.0f} ms wall, "
                  f"{distinct} distinct volumes, pool reserved {reserved // MiB} MiB "
                  f"for {asked // MiB} MiB asked ({'no overbooking' if reserved == asked else 'MISMATCH'})")
            ok = distinct == args.parallel and reserved == asked and times[-1] < 1.0
        finally:
            csi.stop()
            agent.stop()
            ctl.stop()
            tgt.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
