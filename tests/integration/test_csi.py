# SPDX-License-Identifier: Apache-2.0
"""slio-csi over gRPC, driven by stubs generated from our csi/proto/csi.proto:
every Identity, Controller and Node RPC, idempotency, missing and wrong
arguments, pagination, the CSI specification's error codes, concurrent calls
on one volume (ABORTED), 50 parallel creates, malformed frames.

The controller is slio-controller's REST API: the double in
csi_fake_controller.py, or a real one when SLIO_CSI_CONTROLLER_URL is set.
"""
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from conftest import binary, free_port
from csi_fake_controller import serve
from csi_helpers import Csi, generate_stubs

GiB = 1 << 30
MiB = 1 << 20
C = grpc.StatusCode


@pytest.fixture(scope="session")
def stubs(tmp_path_factory):
    return generate_stubs(tmp_path_factory.mktemp("csi-stubs"))


@pytest.fixture
def fake(tmp_path):
    srv, state = serve(free_port(), token="csi-token")
    yield srv, state
    state.gate.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def csi(tmp_path, fake, stubs):
    pb2, pb2_grpc = stubs
    url = f"http://127.0.0.1:{fake[0].server_address[1]}"
    c = Csi(binary("csi/slio-csi"), tmp_path, url, pb2, pb2_grpc)
    c.state = fake[1]
    yield c
    fake[1].gate.set()
    rc = c.stop()
    assert rc == 0 or getattr(c, "killed", False), c.logtail()


def mount_cap(pb2, fs="ext4", mode=1):
    return pb2.VolumeCapability(mount=pb2.VolumeCapability.MountVolume(fs_type=fs),
                                access_mode=pb2.VolumeCapability.AccessMode(mode=mode))


def block_cap(pb2, mode=1):
    return pb2.VolumeCapability(block=pb2.VolumeCapability.BlockVolume(),
                                access_mode=pb2.VolumeCapability.AccessMode(mode=mode))


def create(csi, name, size=GiB, params=None, caps=None, **kw):
    pb2 = csi.pb2
    req = pb2.CreateVolumeRequest(name=name, capacity_range=pb2.CapacityRange(required_bytes=size),
                                  volume_capabilities=caps or [mount_cap(pb2)],
                                  parameters=params or {}, **kw)
    return csi.controller.CreateVolume(req, timeout=10).volume


def expect(code, fn, *a, **kw):
    with pytest.raises(grpc.RpcError) as e:
        fn(*a, **kw)
    assert e.value.code() == code, e.value.details()
    return e.value.details()


# ---- Identity ----------------------------------------------------------------------------

def test_identity(csi):
    pb2 = csi.pb2
    info = csi.identity.GetPluginInfo(pb2.GetPluginInfoRequest())
    assert info.name == "csi.sliteio.io" and info.vendor_version
    caps = csi.identity.GetPluginCapabilities(pb2.GetPluginCapabilitiesRequest()).capabilities
    services = {c.service.type for c in caps if c.HasField("service")}
    assert services == {pb2.PluginCapability.Service.CONTROLLER_SERVICE,
                        pb2.PluginCapability.Service.VOLUME_ACCESSIBILITY_CONSTRAINTS}
    assert [c.volume_expansion.type for c in caps if c.HasField("volume_expansion")] == \
        [pb2.PluginCapability.VolumeExpansion.ONLINE]
    assert csi.identity.Probe(pb2.ProbeRequest()).ready.value is True


def test_probe_not_ready_without_controller(tmp_path, stubs):
    pb2, pb2_grpc = stubs
    c = Csi(binary("csi/slio-csi"), tmp_path, f"http://127.0.0.1:{free_port()}", pb2, pb2_grpc)
    try:
        assert c.identity.Probe(pb2.ProbeRequest(), timeout=20).ready.value is False
        expect(C.UNAVAILABLE, create, c, "pvc-nocontroller")
    finally:
        assert c.stop() == 0


# ---- CreateVolume ------------------------------------------------------------------------

def test_create_volume_and_context(csi):
    v = create(csi, "pvc-1", size=GiB + 1, params={"fsType": "xfs", "mkfsOptions": "-m crc=1",
                                                  "thin": "false", "rwIopsPerSec": "1000",
                                                  "csi.storage.k8s.io/pvc/name": "data"})
    assert uuid.UUID(v.volume_id)
    assert v.capacity_bytes == GiB + 4 * MiB  # rounded up to a whole 4 MiB extent
    assert dict(v.volume_context) == {"fsType": "xfs", "mkfsOptions": "-m crc=1"}
    body = [c for c in csi.state.calls if c == ("POST", "/v1/volumes")]
    assert len(body) == 1
    vol = csi.state.volumes[v.volume_id]
    assert vol["phase"] == "ready" and vol["qos"] == {"rw_ios_per_sec": 1000}


def test_create_volume_idempotent_by_name(csi):
    a = create(csi, "pvc-same", params={"position": "prefer_local"})
    b = create(csi, "pvc-same", params={"position": "prefer_local"})
    assert a.volume_id == b.volume_id and len(csi.state.volumes) == 1
    msg = expect(C.ALREADY_EXISTS, create, csi, "pvc-same", size=2 * GiB,
                 params={"position": "prefer_local"})
    assert "pvc-same" in msg


@pytest.mark.parametrize("params,needle", [
    ({"colour": "blue"}, "colour"),
    ({"thin": "yes"}, "thin"),
    ({"fsType": "btrfs"}, "fsType"),
    ({"position": "nearby"}, "position"),
    ({"rwIopsPerSec": "-1"}, "rwIopsPerSec"),
    ({"spreadLevel": "rack"}, "spreadGroup"),
    ({"nodeSelector": "zone=a b"}, "selector"),
    ({"mkfsOptions": "-O ^has_journal; rm -rf /"}, "mkfsOptions"),
])
def test_create_volume_bad_parameters(csi, params, needle):
    assert needle in expect(C.INVALID_ARGUMENT, create, csi, "pvc-bad", params=params)
    assert csi.state.volumes == {}


def test_create_volume_selectors_and_spread(csi):
    v = create(csi, "pvc-sel", params={"nodeSelector": "rack=r1|r2,ssd,!slow,zone!=z9",
                                       "poolSelector": "tier=gold", "spreadGroup": "db",
                                       "spreadLevel": "rack", "spreadHard": "false"})
    p = csi.state.volumes[v.volume_id]["_params"]
    assert p["node_selector"] == [
        {"key": "rack", "operator": "In", "values": ["r1", "r2"]},
        {"key": "ssd", "operator": "Exists", "values": []},
        {"key": "slow", "operator": "DoesNotExist", "values": []},
        {"key": "zone", "operator": "NotIn", "values": ["z9"]}]
    assert p["spread"] == {"group": "db", "level": "rack", "hard": False}


def test_create_volume_missing_arguments(csi):
    pb2 = csi.pb2
    expect(C.INVALID_ARGUMENT, csi.controller.CreateVolume,
           pb2.CreateVolumeRequest(volume_capabilities=[mount_cap(pb2)]))
    expect(C.INVALID_ARGUMENT, csi.controller.CreateVolume, pb2.CreateVolumeRequest(name="pvc-x"))
    expect(C.INVALID_ARGUMENT, create, csi, "x" * 129)
    # multi-node modes are refused, never silently accepted
    expect(C.INVALID_ARGUMENT, create, csi, "pvc-rwx", caps=[mount_cap(pb2, mode=5)])
    expect(C.INVALID_ARGUMENT, create, csi, "pvc-fs", caps=[mount_cap(pb2, fs="ntfs")])


def test_create_volume_capacity_rules(csi):
    pb2 = csi.pb2

    def req(required, limit):
        return pb2.CreateVolumeRequest(name="pvc-cap", volume_capabilities=[mount_cap(pb2)],
                                       capacity_range=pb2.CapacityRange(required_bytes=required,
                                                                        limit_bytes=limit))
    expect(C.OUT_OF_RANGE, csi.controller.CreateVolume, req(2 * GiB, GiB))
    expect(C.OUT_OF_RANGE, csi.controller.CreateVolume, req(GiB + 1, GiB + 2))  # no extent fits
    expect(C.OUT_OF_RANGE, csi.controller.CreateVolume, req(0, MiB))
    expect(C.INVALID_ARGUMENT, csi.controller.CreateVolume, req(-1, 0))
    # only a limit: the default size (1 GiB) or the limit when smaller
    v = csi.controller.CreateVolume(req(0, 256 * MiB)).volume
    assert v.capacity_bytes == 256 * MiB
    # no pool can hold it: RESOURCE_EXHAUSTED
    msg = expect(C.RESOURCE_EXHAUSTED, create, csi, "pvc-huge", size=1 << 50)
    assert "pool" in msg


def test_create_volume_topology(csi):
    pb2 = csi.pb2
    topo = pb2.TopologyRequirement(
        requisite=[pb2.Topology(segments={"topology.sliteio.io/node": "node-b"})],
        preferred=[pb2.Topology(segments={"topology.sliteio.io/node": "node-b"})])
    v = create(csi, "pvc-local", params={"position": "must_local"}, accessibility_requirements=topo)
    assert [dict(t.segments) for t in v.accessible_topology] == [{"topology.sliteio.io/node": "node-b"}]
    assert csi.state.volumes[v.volume_id]["consumer_node"] == "node-b"
    # remote-capable volumes can be reached from any node: no constraint
    w = create(csi, "pvc-any", accessibility_requirements=topo)
    assert list(w.accessible_topology) == []


def test_create_volume_content_source(csi):
    pb2 = csi.pb2
    src = create(csi, "pvc-src")
    snap = csi.controller.CreateSnapshot(pb2.CreateSnapshotRequest(
        name="snap-1", source_volume_id=src.volume_id)).snapshot
    cs = pb2.VolumeContentSource(snapshot=pb2.VolumeContentSource.SnapshotSource(
        snapshot_id=snap.snapshot_id))
    v = create(csi, "pvc-clone", volume_content_source=cs)
    assert v.content_source.snapshot.snapshot_id == snap.snapshot_id
    missing = pb2.VolumeContentSource(volume=pb2.VolumeContentSource.VolumeSource(
        volume_id=str(uuid.uuid4())))
    expect(C.NOT_FOUND, create, csi, "pvc-clone2", volume_content_source=missing)
    garbage = pb2.VolumeContentSource(snapshot=pb2.VolumeContentSource.SnapshotSource(snapshot_id="x"))
    expect(C.NOT_FOUND, create, csi, "pvc-clone3", volume_content_source=garbage)


# ---- DeleteVolume, expand, get, validate -------------------------------------------------

def test_delete_volume(csi):
    pb2 = csi.pb2
    v = create(csi, "pvc-del")
    req = pb2.DeleteVolumeRequest(volume_id=v.volume_id)
    csi.controller.DeleteVolume(req)
    assert v.volume_id not in csi.state.volumes
    csi.controller.DeleteVolume(req)  # idempotent
    csi.controller.DeleteVolume(pb2.DeleteVolumeRequest(volume_id=str(uuid.uuid4())))
    csi.controller.DeleteVolume(pb2.DeleteVolumeRequest(volume_id="not-ours"))
    expect(C.INVALID_ARGUMENT, csi.controller.DeleteVolume, pb2.DeleteVolumeRequest())
    # a volume with a snapshot cannot go yet
    w = create(csi, "pvc-snapped")
    csi.controller.CreateSnapshot(pb2.CreateSnapshotRequest(name="s", source_volume_id=w.volume_id))
    expect(C.FAILED_PRECONDITION, csi.controller.DeleteVolume,
           pb2.DeleteVolumeRequest(volume_id=w.volume_id))


def test_expand_volume(csi):
    pb2 = csi.pb2
    v = create(csi, "pvc-grow")

    def grow(size, cap=None, vid=v.volume_id):
        return csi.controller.ControllerExpandVolume(pb2.ControllerExpandVolumeRequest(
            volume_id=vid, capacity_range=pb2.CapacityRange(required_bytes=size),
            volume_capability=cap))
    r = grow(2 * GiB)
    assert r.capacity_bytes == 2 * GiB and r.node_expansion_required
    assert grow(2 * GiB).capacity_bytes == 2 * GiB  # idempotent
    assert not grow(3 * GiB, block_cap(pb2)).node_expansion_required
    expect(C.OUT_OF_RANGE, grow, GiB)
    expect(C.NOT_FOUND, grow, 4 * GiB, vid=str(uuid.uuid4()))
    expect(C.NOT_FOUND, grow, 4 * GiB, vid="nope")
    expect(C.INVALID_ARGUMENT, csi.controller.ControllerExpandVolume,
           pb2.ControllerExpandVolumeRequest(volume_id=v.volume_id))


def test_controller_get_volume(csi):
    pb2 = csi.pb2
    v = create(csi, "pvc-get")
    r = csi.controller.ControllerGetVolume(pb2.ControllerGetVolumeRequest(volume_id=v.volume_id))
    assert r.volume.volume_id == v.volume_id and not r.status.volume_condition.abnormal
    csi.state.volumes[v.volume_id]["degraded"] = True
    r = csi.controller.ControllerGetVolume(pb2.ControllerGetVolumeRequest(volume_id=v.volume_id))
    assert r.status.volume_condition.abnormal and "unreachable" in r.status.volume_condition.message
    expect(C.NOT_FOUND, csi.controller.ControllerGetVolume,
           pb2.ControllerGetVolumeRequest(volume_id=str(uuid.uuid4())))


def test_validate_volume_capabilities(csi):
    pb2 = csi.pb2
    v = create(csi, "pvc-val")

    def validate(caps, params=None, vid=v.volume_id):
        return csi.controller.ValidateVolumeCapabilities(pb2.ValidateVolumeCapabilitiesRequest(
            volume_id=vid, volume_capabilities=caps, parameters=params or {}))
    ok = validate([mount_cap(pb2), block_cap(pb2, mode=2)], {"thin": "true"})
    assert len(ok.confirmed.volume_capabilities) == 2 and dict(ok.confirmed.parameters) == {"thin": "true"}
    for mode in (3, 4, 5):  # multi-node modes: not confirmed
        r = validate([mount_cap(pb2, mode=mode)])
        assert not r.HasField("confirmed") and "single-node" in r.message
    r = validate([mount_cap(pb2)], {"bogus": "1"})
    assert not r.HasField("confirmed") and "bogus" in r.message
    expect(C.NOT_FOUND, validate, [mount_cap(pb2)], vid=str(uuid.uuid4()))
    expect(C.INVALID_ARGUMENT, validate, [])


# ---- Lists and capacity ------------------------------------------------------------------

def test_list_volumes_pagination(csi):
    pb2 = csi.pb2
    ids = {create(csi, f"pvc-l{i}").volume_id for i in range(7)}
    seen, token, pages = [], "", 0
    while True:
        r = csi.controller.ListVolumes(pb2.ListVolumesRequest(max_entries=3, starting_token=token))
        assert len(r.entries) <= 3
        seen += [e.volume.volume_id for e in r.entries]
        pages += 1
        token = r.next_token
        if not token:
            break
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == ids
    # all at once
    r = csi.controller.ListVolumes(pb2.ListVolumesRequest())
    assert {e.volume.volume_id for e in r.entries} == ids and not r.next_token
    expect(C.ABORTED, csi.controller.ListVolumes, pb2.ListVolumesRequest(starting_token="garbage"))
    expect(C.INVALID_ARGUMENT, csi.controller.ListVolumes, pb2.ListVolumesRequest(max_entries=-1))


def test_list_volumes_published_nodes(csi):
    pb2 = csi.pb2
    v = create(csi, "pvc-pub")
    csi.state.attach(v.volume_id, {"node": "node-b"})
    r = csi.controller.ListVolumes(pb2.ListVolumesRequest())
    assert list(r.entries[0].status.published_node_ids) == ["node-b"]


def test_get_capacity(csi):
    pb2 = csi.pb2

    def cap(params=None, segs=None):
        return csi.controller.GetCapacity(pb2.GetCapacityRequest(
            parameters=params or {}, volume_capabilities=[mount_cap(pb2)],
            accessible_topology=pb2.Topology(segments=segs) if segs else None))
    r = cap()
    assert r.available_capacity == 150 * GiB and r.maximum_volume_size.value == 100 * GiB
    assert cap({"thin": "true"}).available_capacity == 200 * GiB  # node-b's thin pool x2
    assert cap(segs={"topology.sliteio.io/node": "node-b"}).available_capacity == 50 * GiB
    assert cap(segs={"topology.sliteio.io/rack": "r1"}).available_capacity == 100 * GiB
    assert cap(segs={"topology.sliteio.io/zone": "z1"}).available_capacity == 150 * GiB
    assert cap(segs={"topology.sliteio.io/zone": "z2"}).available_capacity == 0
    create(csi, "pvc-cap1", size=10 * GiB, params={"position": "must_local"},
           accessibility_requirements=pb2.TopologyRequirement(
               preferred=[pb2.Topology(segments={"topology.sliteio.io/node": "node-a"})]))
    assert cap(segs={"topology.sliteio.io/node": "node-a"}).available_capacity == 90 * GiB
    expect(C.INVALID_ARGUMENT, cap, {"nope": "1"})
    r = csi.controller.GetCapacity(pb2.GetCapacityRequest(volume_capabilities=[mount_cap(pb2, mode=5)]))
    assert r.available_capacity == 0


def test_controller_capabilities(csi):
    pb2 = csi.pb2
    T = pb2.ControllerServiceCapability.RPC
    caps = {c.rpc.type for c in csi.controller.ControllerGetCapabilities(
        pb2.ControllerGetCapabilitiesRequest()).capabilities}
    assert {T.CREATE_DELETE_VOLUME, T.LIST_VOLUMES, T.GET_CAPACITY, T.CREATE_DELETE_SNAPSHOT,
            T.LIST_SNAPSHOTS, T.CLONE_VOLUME, T.EXPAND_VOLUME, T.LIST_VOLUMES_PUBLISHED_NODES,
            T.GET_VOLUME, T.VOLUME_CONDITION} == caps
    assert T.PUBLISH_UNPUBLISH_VOLUME not in caps


# ---- Snapshots ---------------------------------------------------------------------------

def test_snapshots(csi):
    pb2 = csi.pb2
    v = create(csi, "pvc-s")
    w = create(csi, "pvc-t")
    mk = lambda name, vid, params=None: csi.controller.CreateSnapshot(pb2.CreateSnapshotRequest(
        name=name, source_volume_id=vid, parameters=params or {})).snapshot
    s1 = mk("snap-a", v.volume_id, {"cowReserve": "1Gi"})
    assert s1.ready_to_use and s1.source_volume_id == v.volume_id and s1.creation_time.seconds > 0
    assert mk("snap-a", v.volume_id).snapshot_id == s1.snapshot_id  # idempotent
    expect(C.ALREADY_EXISTS, mk, "snap-a", w.volume_id)
    expect(C.NOT_FOUND, mk, "snap-b", str(uuid.uuid4()))
    expect(C.INVALID_ARGUMENT, mk, "snap-c", v.volume_id, {"cow": "1"})
    expect(C.INVALID_ARGUMENT, mk, "", v.volume_id)
    ids = [s1.snapshot_id] + [mk(f"snap-{i}", w.volume_id).snapshot_id for i in range(4)]
    lst = lambda **kw: csi.controller.ListSnapshots(pb2.ListSnapshotsRequest(**kw))
    seen, token = [], ""
    while True:
        r = lst(max_entries=2, starting_token=token)
        seen += [e.snapshot.snapshot_id for e in r.entries]
        token = r.next_token
        if not token:
            break
    assert seen == ids
    assert [e.snapshot.snapshot_id for e in lst(source_volume_id=v.volume_id).entries] == [s1.snapshot_id]
    assert [e.snapshot.snapshot_id for e in lst(snapshot_id=s1.snapshot_id).entries] == [s1.snapshot_id]
    assert list(lst(snapshot_id=str(uuid.uuid4())).entries) == []
    assert list(lst(snapshot_id=s1.snapshot_id, source_volume_id=w.volume_id).entries) == []
    expect(C.ABORTED, lst, starting_token="zzz")
    d = lambda sid: csi.controller.DeleteSnapshot(pb2.DeleteSnapshotRequest(snapshot_id=sid))
    d(s1.snapshot_id)
    d(s1.snapshot_id)
    d("whatever")
    expect(C.INVALID_ARGUMENT, d, "")


# ---- Concurrency -------------------------------------------------------------------------

def test_concurrent_calls_on_one_volume_abort(csi):
    pb2 = csi.pb2
    st = csi.state
    st.held.add("pvc-slow")
    with ThreadPoolExecutor(2) as ex:
        first = ex.submit(create, csi, "pvc-slow")
        assert st.waiting.acquire(timeout=10)  # the first call is at the controller now
        msg = expect(C.ABORTED, create, csi, "pvc-slow")
        assert "in progress" in msg
        st.gate.set()
        vid = first.result(timeout=10).volume_id
    st.gate.clear()
    st.held = {vid}
    grow = lambda: csi.controller.ControllerExpandVolume(pb2.ControllerExpandVolumeRequest(
        volume_id=vid, capacity_range=pb2.CapacityRange(required_bytes=2 * GiB)), timeout=10)
    with ThreadPoolExecutor(2) as ex:
        first = ex.submit(grow)
        assert st.waiting.acquire(timeout=10)
        expect(C.ABORTED, csi.controller.DeleteVolume, pb2.DeleteVolumeRequest(volume_id=vid))
        # other volumes are not held up
        assert create(csi, "pvc-other").volume_id
        st.gate.set()
        assert first.result(timeout=10).capacity_bytes == 2 * GiB


def test_deadline_exceeded(csi):
    """A call still at the controller when the caller's deadline passes."""
    csi.state.held.add("pvc-late")
    with pytest.raises(grpc.RpcError) as e:
        csi.controller.CreateVolume(csi.pb2.CreateVolumeRequest(
            name="pvc-late", volume_capabilities=[mount_cap(csi.pb2)]), timeout=0.3)
    assert e.value.code() == C.DEADLINE_EXCEEDED
    csi.state.gate.set()


def test_fifty_parallel_creates(csi):
    def one(i):
        return create(csi, f"pvc-par-{i}", size=GiB)
    with ThreadPoolExecutor(50) as ex:
        vols = list(ex.map(one, range(50)))
    ids = [v.volume_id for v in vols]
    assert len(set(ids)) == 50 and len(csi.state.volumes) == 50
    reserved = sum(p["reserved"] for p in csi.state.pools)
    assert reserved == 50 * GiB  # every byte promised once, none twice
    for p in csi.state.pools:
        assert p["reserved"] <= p["capacity"]


# ---- Node --------------------------------------------------------------------------------

def test_node_info_and_capabilities(csi):
    pb2 = csi.pb2
    info = csi.node.NodeGetInfo(pb2.NodeGetInfoRequest())
    assert info.node_id == "node-a" and info.max_volumes_per_node == 64
    assert dict(info.accessible_topology.segments) == {
        "topology.sliteio.io/node": "node-a", "topology.sliteio.io/rack": "r1",
        "topology.sliteio.io/zone": "z1"}
    T = pb2.NodeServiceCapability.RPC
    caps = {c.rpc.type for c in csi.node.NodeGetCapabilities(pb2.NodeGetCapabilitiesRequest()).capabilities}
    assert caps == {T.STAGE_UNSTAGE_VOLUME, T.GET_VOLUME_STATS, T.EXPAND_VOLUME, T.VOLUME_CONDITION}


def test_node_argument_errors(csi, tmp_path):
    pb2 = csi.pb2
    vid = str(uuid.uuid4())
    stage = lambda **kw: csi.node.NodeStageVolume(pb2.NodeStageVolumeRequest(**kw))
    expect(C.INVALID_ARGUMENT, stage, staging_target_path="/x", volume_capability=mount_cap(pb2))
    expect(C.INVALID_ARGUMENT, stage, volume_id=vid, volume_capability=mount_cap(pb2))
    expect(C.INVALID_ARGUMENT, stage, volume_id=vid, staging_target_path="/x")
    expect(C.INVALID_ARGUMENT, stage, volume_id=vid, staging_target_path="rel/path",
           volume_capability=mount_cap(pb2))
    expect(C.INVALID_ARGUMENT, stage, volume_id=vid, staging_target_path="/a/../b",
           volume_capability=mount_cap(pb2))
    expect(C.INVALID_ARGUMENT, stage, volume_id=vid, staging_target_path="/x",
           volume_capability=mount_cap(pb2, mode=5))
    expect(C.NOT_FOUND, stage, volume_id="nope", staging_target_path="/x",
           volume_capability=mount_cap(pb2))
    publish = lambda **kw: csi.node.NodePublishVolume(pb2.NodePublishVolumeRequest(**kw))
    expect(C.INVALID_ARGUMENT, publish, volume_id=vid, target_path=str(tmp_path / "t"),
           volume_capability=mount_cap(pb2))
    expect(C.FAILED_PRECONDITION, publish, volume_id=vid, staging_target_path=str(tmp_path / "s"),
           target_path=str(tmp_path / "t"), volume_capability=mount_cap(pb2))
    # unpublish/unstage of what is not there: success (idempotent)
    csi.node.NodeUnpublishVolume(pb2.NodeUnpublishVolumeRequest(volume_id=vid,
                                                                target_path=str(tmp_path / "t")))
    expect(C.INVALID_ARGUMENT, csi.node.NodeUnpublishVolume,
           pb2.NodeUnpublishVolumeRequest(volume_id=vid))
    csi.node.NodeUnstageVolume(pb2.NodeUnstageVolumeRequest(volume_id=vid,
                                                            staging_target_path=str(tmp_path / "s")))
    assert ("DELETE", f"/v1/volumes/{vid}/attachments/node-a") in csi.state.calls


def test_node_stage_refused_when_attached_elsewhere(csi, tmp_path):
    pb2 = csi.pb2
    v = create(csi, "pvc-elsewhere")
    csi.state.attach(v.volume_id, {"node": "node-b"})
    expect(C.FAILED_PRECONDITION, csi.node.NodeStageVolume, pb2.NodeStageVolumeRequest(
        volume_id=v.volume_id, staging_target_path=str(tmp_path / "stage"),
        volume_capability=mount_cap(pb2)))


def test_node_stats(csi, tmp_path):
    pb2 = csi.pb2
    vid = str(uuid.uuid4())
    stats = lambda p: csi.node.NodeGetVolumeStats(pb2.NodeGetVolumeStatsRequest(volume_id=vid,
                                                                                volume_path=p))
    expect(C.NOT_FOUND, stats, str(tmp_path / "missing"))
    expect(C.INVALID_ARGUMENT, csi.node.NodeGetVolumeStats, pb2.NodeGetVolumeStatsRequest(volume_id=vid))
    pub = tmp_path / "pub"
    pub.mkdir()
    r = stats(str(pub))  # a directory that is not a mount: abnormal, still measured
    assert r.volume_condition.abnormal and "not mounted" in r.volume_condition.message
    units = {u.unit: u for u in r.usage}
    assert units[pb2.VolumeUsage.BYTES].total > 0 and units[pb2.VolumeUsage.INODES].total > 0
    # mounted (per mountinfo) and its NVMe controller is connecting: abnormal
    csi.mountinfo.write_text(f"90 1 259:1 / {pub} rw,relatime - ext4 /dev/nvme1n1 rw\n")
    ctrl = csi.sysfs / "class" / "nvme" / "nvme1"
    ctrl.mkdir(parents=True)
    (ctrl / "subsysnqn").write_text(f"nqn.2024-01.io.slite:vol:{vid}\n")
    (ctrl / "state").write_text("connecting\n")
    r = stats(str(pub))
    assert r.volume_condition.abnormal and "connecting" in r.volume_condition.message
    (ctrl / "state").write_text("live\n")
    assert not stats(str(pub)).volume_condition.abnormal


# ---- The wire ----------------------------------------------------------------------------

def test_malformed_and_unknown(csi):
    with pytest.raises(grpc.RpcError) as e:
        csi.raw("/csi.v1.Controller/CreateVolume", b"\x0a\xff\xff\xff\xff\x0f")
    assert e.value.code() == C.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as e:
        csi.raw("/csi.v1.Controller/ControllerPublishVolume", b"")
    assert e.value.code() == C.UNIMPLEMENTED
    with pytest.raises(grpc.RpcError) as e:
        csi.raw("/csi.v1.Identity/GetPluginInfo", b"\x0a" + b"\x80" * 5 * 1024 * 1024)
    assert e.value.code() == C.RESOURCE_EXHAUSTED
    # still serving
    assert csi.identity.GetPluginInfo(csi.pb2.GetPluginInfoRequest()).name == "csi.sliteio.io"


def test_controller_mode_serves_no_node(tmp_path, fake, stubs):
    pb2, pb2_grpc = stubs
    c = Csi(binary("csi/slio-csi"), tmp_path, f"http://127.0.0.1:{fake[0].server_address[1]}",
            pb2, pb2_grpc, mode="controller")
    try:
        expect(C.UNIMPLEMENTED, c.node.NodeGetInfo, pb2.NodeGetInfoRequest())
        assert c.identity.Probe(pb2.ProbeRequest()).ready.value
    finally:
        assert c.stop() == 0


def test_kill9_mid_create_then_restart(csi, tmp_path):
    """slio-csi keeps no state: killed while a create is at the controller, a
    restarted plugin (same socket) answers the sidecar's retry with the one volume."""
    st = csi.state
    st.held.add("pvc-crash")
    with ThreadPoolExecutor(1) as ex:
        first = ex.submit(create, csi, "pvc-crash")
        assert st.waiting.acquire(timeout=10)
        csi.proc.kill()
        csi.proc.wait()
        csi.killed = True
        with pytest.raises(grpc.RpcError) as e:
            first.result(timeout=10)
        assert e.value.code() == C.UNAVAILABLE
    st.gate.set()  # the controller finishes the first POST on its own
    csi.channel.close()
    again = Csi(csi.argv[0], tmp_path, csi.argv[csi.argv.index("--controller") + 1],
                csi.pb2, csi.pb2_grpc)
    try:
        v = create(again, "pvc-crash")
        assert [x["id"] for x in st.volumes.values() if x["name"] == "pvc-crash"] == [v.volume_id]
    finally:
        assert again.stop() == 0


def test_tcp_endpoint_and_second_controller_url(tmp_path, fake, stubs):
    """A TCP listener, and --controller with a dead first URL: the client moves on."""
    pb2, pb2_grpc = stubs
    port = free_port()
    dead = f"http://127.0.0.1:{free_port()}"
    live = f"http://127.0.0.1:{fake[0].server_address[1]}"
    c = Csi(binary("csi/slio-csi"), tmp_path, f"{dead},{live}", pb2, pb2_grpc,
            endpoint=f"tcp://127.0.0.1:{port}",
            extra=["--ctrl-loss-tmo", "30", "--reconnect-delay", "1", "--attach-timeout", "20s",
                   "--workers", "4"])
    try:
        v = create(c, "pvc-tcp")
        assert v.capacity_bytes == GiB and v.volume_id in fake[1].volumes
        assert c.identity.Probe(pb2.ProbeRequest()).ready.value
    finally:
        assert c.stop() == 0


@pytest.mark.parametrize("args,rc,needle", [
    (["--mode", "node", "--endpoint", "unix:///nonexistent/dir/csi.sock", "--node-id", "n1"], 1,
     "cannot listen"),
    (["--mode", "node", "--endpoint", "foo://x", "--node-id", "n1"], 1, "expected unix://"),
    (["--mode", "bogus", "--endpoint", "unix:///tmp/x.sock"], 2, "--mode"),
    (["--mode", "node", "--endpoint", "unix:///tmp/x.sock"], 2, "--node-id"),
    (["--mode", "controller", "--endpoint", "unix:///tmp/x.sock"], 2, "--controller"),
    (["--mode", "all", "--endpoint", "unix:///tmp/x.sock", "--node-id", "n", "--controller",
      "ftp://x"], 1, "not an http"),
    (["--mode", "node", "--endpoint", "unix:///tmp/x.sock", "--node-id", "n", "--workers", "0"], 2,
     "--workers"),
    (["--mode", "node", "--endpoint", "unix:///tmp/x.sock", "--node-id", "n", "--ctrl-loss-tmo",
      "0"], 2, "--ctrl-loss-tmo"),
    (["--mode", "node", "--endpoint", "unix:///tmp/x.sock", "--node-id", "n", "--attach-timeout",
      "5"], 2, "--attach-timeout"),
])
def test_bad_command_lines(args, rc, needle):
    import subprocess
    p = subprocess.run([binary("csi/slio-csi"), *args], capture_output=True, text=True, timeout=20)
    assert p.returncode == rc and needle in p.stderr, (p.returncode, p.stderr)


def test_node_calls_on_one_volume_abort(csi, tmp_path):
    """NodeStage waiting on the controller: Unstage/Publish of that volume are ABORTED,
    another volume's calls go through."""
    pb2, st = csi.pb2, csi.state
    v = create(csi, "pvc-nodebusy")
    st.held.add(v.volume_id)
    stage = pb2.NodeStageVolumeRequest(volume_id=v.volume_id, staging_target_path=str(tmp_path / "s"),
                                       volume_capability=mount_cap(pb2))
    with ThreadPoolExecutor(1) as ex:
        first = ex.submit(csi.node.NodeStageVolume, stage, timeout=0.5 + 10)
        assert st.waiting.acquire(timeout=10)
        expect(C.ABORTED, csi.node.NodeUnstageVolume, pb2.NodeUnstageVolumeRequest(
            volume_id=v.volume_id, staging_target_path=str(tmp_path / "s")))
        expect(C.ABORTED, csi.node.NodePublishVolume, pb2.NodePublishVolumeRequest(
            volume_id=v.volume_id, staging_target_path=str(tmp_path / "s"),
            target_path=str(tmp_path / "t"), volume_capability=mount_cap(pb2)))
        other = str(uuid.uuid4())
        csi.node.NodeUnstageVolume(pb2.NodeUnstageVolumeRequest(
            volume_id=other, staging_target_path=str(tmp_path / "o")))
        # let the attach through, refused (attached elsewhere): nothing runs on this host
        st.volumes[v.volume_id]["attachments"] = [{"volume": v.volume_id, "node": "node-b"}]
        st.gate.set()
        with pytest.raises(grpc.RpcError) as e:
            first.result(timeout=15)
        assert e.value.code() == C.FAILED_PRECONDITION
