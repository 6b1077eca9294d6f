# SPDX-License-Identifier: Apache-2.0
"""slio-csi against the real thing: slio-controller (SQLite), slio-agent on the
file engine with a real slio-tgt, and slio-csi --mode all as node "n1".
Volumes are files in the agent's pool; a local volume is staged and published
for real in block mode (bind mounts of the volume's file, undone at the end);
remote staging (nvme-tcp) is the VM scenario's job, this host has no nvme-tcp.
"""
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

from conftest import binary
from controller_proc import Controller
from csi_helpers import Csi, generate_stubs
from agent_helpers import Agent

GiB = 1 << 30
MiB = 1 << 20
C = grpc.StatusCode


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    return generate_stubs(tmp_path_factory.mktemp("csi-stubs"))


@pytest.fixture
def cluster(tmp_path, target, stubs):
    ctl = Controller(tmp_path).start()
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    a = Agent(agent_dir, target, ctl, capacity="20Gi")
    conf = a.conf.read_text().replace(
        "  urls:", f"  token_file: \"{ctl.dir / 'agent.token'}\"\n  urls:")
    a.conf.write_text(conf)
    a.start()
    ctl.wait_for("node n1 registered", lambda: ctl.call("GET", "/v1/nodes/n1")[0] == 200, 15)
    csi_dir = tmp_path / "csi"
    csi_dir.mkdir()
    pb2, pb2_grpc = stubs
    c = Csi(binary("csi/slio-csi"), csi_dir, ctl.url, pb2, pb2_grpc,
            extra=["--mountinfo", "/proc/self/mountinfo", "--node-id", "n1",
                   "--token-file", str(ctl.dir / "csi.token")])
    c.ctl, c.agent = ctl, a
    yield c
    leftovers = [l for l in Path("/proc/self/mountinfo").read_text().splitlines() if str(tmp_path) in l]
    for line in leftovers:  # never leave a mount behind, even when a test failed
        subprocess.run(["umount", "-l", line.split()[4]], check=False)
    assert c.stop() == 0, c.logtail()
    a.stop()
    ctl.stop()
    assert not leftovers, f"mounts left behind: {leftovers}"


def mount_cap(pb2, mode=1):
    return pb2.VolumeCapability(mount=pb2.VolumeCapability.MountVolume(fs_type="ext4"),
                                access_mode=pb2.VolumeCapability.AccessMode(mode=mode))


def block_cap(pb2):
    return pb2.VolumeCapability(block=pb2.VolumeCapability.BlockVolume(),
                                access_mode=pb2.VolumeCapability.AccessMode(mode=1))


def create(csi, name, size=64 * MiB, params=None, cap=None):
    pb2 = csi.pb2
    return csi.controller.CreateVolume(pb2.CreateVolumeRequest(
        name=name, capacity_range=pb2.CapacityRange(required_bytes=size),
        volume_capabilities=[cap or mount_cap(pb2)], parameters=params or {}), timeout=30).volume


def expect(code, fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as e:
        fn(*a, **kw)
    assert e.value.code() == code, e.value.details()
    return e.value.details()


def test_volume_lifecycle(cluster):
    c, pb2 = cluster, cluster.pb2
    assert c.identity.Probe(pb2.ProbeRequest()).ready.value
    v = create(c, "pvc-life", params={"position": "prefer_local"})
    assert v.capacity_bytes == 64 * MiB
    assert v.volume_id in c.agent.files()  # the agent carved it before CreateVolume returned
    assert create(c, "pvc-life", params={"position": "prefer_local"}).volume_id == v.volume_id
    expect(C.ALREADY_EXISTS, create, c, "pvc-life", size=128 * MiB, params={"position": "prefer_local"})
    expect(C.INVALID_ARGUMENT, create, c, "pvc-bad", params={"speed": "fast"})
    expect(C.RESOURCE_EXHAUSTED, create, c, "pvc-huge", size=64 * GiB)
    got = c.controller.ControllerGetVolume(pb2.ControllerGetVolumeRequest(volume_id=v.volume_id))
    assert got.volume.capacity_bytes == 64 * MiB and not got.status.volume_condition.abnormal
    r = c.controller.ControllerExpandVolume(pb2.ControllerExpandVolumeRequest(
        volume_id=v.volume_id, capacity_range=pb2.CapacityRange(required_bytes=128 * MiB)))
    assert r.capacity_bytes == 128 * MiB and r.node_expansion_required
    lst = c.controller.ListVolumes(pb2.ListVolumesRequest(max_entries=1))
    assert [e.volume.volume_id for e in lst.entries] == [v.volume_id] and not lst.next_token
    cap = c.controller.GetCapacity(pb2.GetCapacityRequest(
        accessible_topology=pb2.Topology(segments={"topology.sliteio.io/node": "n1"})))
    assert 0 < cap.available_capacity <= 20 * GiB - 128 * MiB
    c.controller.DeleteVolume(pb2.DeleteVolumeRequest(volume_id=v.volume_id))
    c.controller.DeleteVolume(pb2.DeleteVolumeRequest(volume_id=v.volume_id))
    c.ctl.wait_for("volume gone", lambda: c.ctl.call("GET", f"/v1/volumes/{v.volume_id}")[0] == 404, 15)
    c.ctl.wait_for("file gone", lambda: v.volume_id not in c.agent.files(), 15)


def test_local_block_stage_publish(cluster, tmp_path):
    c, pb2 = cluster, cluster.pb2
    t0 = time.monotonic()
    v = create(c, "pvc-blk", cap=block_cap(pb2))
    staging, target = tmp_path / "staging", tmp_path / "pod" / "dev"
    target.parent.mkdir()
    stage = pb2.NodeStageVolumeRequest(volume_id=v.volume_id, staging_target_path=str(staging),
                                       volume_capability=block_cap(pb2),
                                       volume_context=v.volume_context)
    c.node.NodeStageVolume(stage, timeout=30)
    publish = pb2.NodePublishVolumeRequest(volume_id=v.volume_id, staging_target_path=str(staging),
                                           target_path=str(target), volume_capability=block_cap(pb2))
    c.node.NodePublishVolume(publish, timeout=30)
    elapsed = time.monotonic() - t0
    assert elapsed < 5, f"CreateVolume → NodePublishVolume took {elapsed:.2f} s"
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(staging / "block") in mounts and str(target) in mounts
    # the published file is the volume: what is written there lands in the agent's file
    with open(target, "r+b") as f:
        f.write(b"slio-csi was here")
    img = next((c.agent.pool_dir / "volumes").glob(f"{v.volume_id}.img"))
    assert img.read_bytes()[:17] == b"slio-csi was here"
    # idempotent, and rediscovered from mountinfo by a restarted plugin
    c.node.NodeStageVolume(stage)
    c.node.NodePublishVolume(publish)
    stats = c.node.NodeGetVolumeStats(pb2.NodeGetVolumeStatsRequest(volume_id=v.volume_id,
                                                                    volume_path=str(target)))
    assert stats.usage[0].total == 64 * MiB and not stats.volume_condition.abnormal
    # expansion: the controller returns once the agent grew the file; the node
    # reports the new size (a block volume has no filesystem to grow)
    r = c.controller.ControllerExpandVolume(pb2.ControllerExpandVolumeRequest(
        volume_id=v.volume_id, capacity_range=pb2.CapacityRange(required_bytes=128 * MiB),
        volume_capability=block_cap(pb2)), timeout=30)
    assert r.capacity_bytes == 128 * MiB and not r.node_expansion_required
    assert img.stat().st_size == 128 * MiB
    n = c.node.NodeExpandVolume(pb2.NodeExpandVolumeRequest(
        volume_id=v.volume_id, volume_path=str(target), volume_capability=block_cap(pb2)))
    assert n.capacity_bytes == 128 * MiB
    with open(target, "rb") as f:
        assert f.read(17) == b"slio-csi was here"
    expect(C.FAILED_PRECONDITION, c.controller.DeleteVolume,
           pb2.DeleteVolumeRequest(volume_id=v.volume_id))  # still attached
    c.node.NodeUnpublishVolume(pb2.NodeUnpublishVolumeRequest(volume_id=v.volume_id,
                                                              target_path=str(target)))
    c.node.NodeUnpublishVolume(pb2.NodeUnpublishVolumeRequest(volume_id=v.volume_id,
                                                              target_path=str(target)))
    unstage = pb2.NodeUnstageVolumeRequest(volume_id=v.volume_id, staging_target_path=str(staging))
    c.node.NodeUnstageVolume(unstage)
    c.node.NodeUnstageVolume(unstage)
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(staging) not in mounts and str(target) not in mounts and not target.exists()
    c.controller.DeleteVolume(pb2.DeleteVolumeRequest(volume_id=v.volume_id))


def test_fifty_parallel_creates(cluster):
    c = cluster
    with ThreadPoolExecutor(50) as ex:
        vols = list(ex.map(lambda i: create(c, f"pvc-p{i}", size=256 * MiB), range(50)))
    ids = {v.volume_id for v in vols}
    assert len(ids) == 50
    pools = c.ctl.ok("GET", "/v1/pools")["items"]
    assert pools[0]["reserved"] == 50 * 256 * MiB <= pools[0]["capacity"]
    assert sorted(ids) == c.agent.files()
    # beyond the pool: refused, nothing overbooked
    expect(C.RESOURCE_EXHAUSTED, create, c, "pvc-over", size=8 * GiB)


def test_local_filesystem_stage_publish(cluster, tmp_path):
    """ext4 on a local file-engine volume (mount sets up the loop device): formatted
    once with the StorageClass's mkfs options, kept on the next stage, published
    read-write and read-only, measured, and nothing left mounted at the end."""
    c, pb2 = cluster, cluster.pb2
    v = create(c, "pvc-fs", params={"fsType": "ext4", "mkfsOptions": "-m 0 -L slio"})
    assert dict(v.volume_context) == {"fsType": "ext4", "mkfsOptions": "-m 0 -L slio"}
    staging, rw, ro = tmp_path / "staging", tmp_path / "rw", tmp_path / "ro"
    stage = pb2.NodeStageVolumeRequest(volume_id=v.volume_id, staging_target_path=str(staging),
                                       volume_capability=mount_cap(pb2), volume_context=v.volume_context)
    unstage = pb2.NodeUnstageVolumeRequest(volume_id=v.volume_id, staging_target_path=str(staging))

    def publish(target, readonly):
        c.node.NodePublishVolume(pb2.NodePublishVolumeRequest(
            volume_id=v.volume_id, staging_target_path=str(staging), target_path=str(target),
            volume_capability=mount_cap(pb2), readonly=readonly), timeout=30)

    def unpublish(target):
        c.node.NodeUnpublishVolume(pb2.NodeUnpublishVolumeRequest(volume_id=v.volume_id,
                                                                  target_path=str(target)))
    c.node.NodeStageVolume(stage, timeout=60)
    c.node.NodeStageVolume(stage, timeout=60)
    img = c.agent.pool_dir / "volumes" / f"{v.volume_id}.img"
    label = subprocess.run(["blkid", "-p", "-o", "value", "-s", "LABEL", str(img)],
                           capture_output=True, text=True).stdout.strip()
    assert label == "slio"  # mkfsOptions reached mkfs.ext4
    publish(rw, False)
    (rw / "data").write_text("kept")
    publish(ro, True)
    with pytest.raises(OSError):
        (ro / "other").write_text("no")
    assert (ro / "data").read_text() == "kept"
    expect(C.ALREADY_EXISTS, publish, ro, False)
    stats = c.node.NodeGetVolumeStats(pb2.NodeGetVolumeStatsRequest(volume_id=v.volume_id,
                                                                    volume_path=str(rw)))
    units = {u.unit: u for u in stats.usage}
    assert 0 < units[pb2.VolumeUsage.BYTES].total <= 64 * MiB
    assert units[pb2.VolumeUsage.INODES].used > 0 and not stats.volume_condition.abnormal
    unpublish(ro)
    unpublish(rw)
    c.node.NodeUnstageVolume(unstage)
    # staged again: the filesystem (and the file) is kept, never reformatted
    c.node.NodeStageVolume(stage, timeout=60)
    publish(rw, False)
    assert (rw / "data").read_text() == "kept"
    unpublish(rw)
    c.node.NodeUnstageVolume(unstage)
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(tmp_path) not in mounts
    c.controller.DeleteVolume(pb2.DeleteVolumeRequest(volume_id=v.volume_id))
