# SPDX-License-Identifier: Apache-2.0
"""A kubelet/external-provisioner's view of slio-csi: Python stubs generated at
run time from csi/proto/csi.proto (python3-grpc-tools), and CreateVolume with
the pod's node as the accessibility requirement (WaitForFirstConsumer)."""
import importlib
import sys
from pathlib import Path

import grpc

from supervisor import StepFailed

TOPOLOGY_NODE = "topology.sliteio.io/node"


def generate_stubs(repo, outdir):
    from grpc_tools import protoc
    wkt = Path(protoc.__file__).parent / "_proto"
    proto_dir = Path(repo) / "csi" / "proto"
    outdir.mkdir(parents=True, exist_ok=True)
    rc = protoc.main(["protoc", f"-I{proto_dir}", f"-I{wkt}", f"--python_out={outdir}",
                      f"--grpc_python_out={outdir}", str(proto_dir / "csi.proto")])
    if rc != 0:
        raise StepFailed(f"grpc_tools.protoc failed on {proto_dir / 'csi.proto'} (exit {rc})")
    sys.path.insert(0, str(outdir))
    return importlib.import_module("csi_pb2"), importlib.import_module("csi_pb2_grpc")


class CsiClient:
    def __init__(self, sock, pb2, pb2_grpc):
        self.pb2 = pb2
        self.channel = grpc.insecure_channel(f"unix://{sock}")
        try:
            grpc.channel_ready_future(self.channel).result(timeout=10)
        except grpc.FutureTimeoutError as e:
            raise StepFailed(f"slio-csi: no gRPC answer on {sock}") from e
        self.identity = pb2_grpc.IdentityStub(self.channel)
        self.controller = pb2_grpc.ControllerStub(self.channel)
        self.node = pb2_grpc.NodeStub(self.channel)

    def close(self):
        self.channel.close()

    def probe(self):
        info = self.identity.GetPluginInfo(self.pb2.GetPluginInfoRequest(), timeout=5)
        ready = self.identity.Probe(self.pb2.ProbeRequest(), timeout=5).ready.value
        node = self.node.NodeGetInfo(self.pb2.NodeGetInfoRequest(), timeout=5)
        return info.name, info.vendor_version, ready, node.node_id

    def create_block_volume(self, name, size, position, consumer):
        """CreateVolume as external-provisioner sends it for a raw-block PVC whose
        pod was scheduled on `consumer` (the StorageClass carries `position`)."""
        pb2 = self.pb2
        cap = pb2.VolumeCapability(
            block=pb2.VolumeCapability.BlockVolume(),
            access_mode=pb2.VolumeCapability.AccessMode(
                mode=pb2.VolumeCapability.AccessMode.SINGLE_NODE_WRITER))
        topo = pb2.Topology(segments={TOPOLOGY_NODE: consumer})
        req = pb2.CreateVolumeRequest(
            name=name, capacity_range=pb2.CapacityRange(required_bytes=size),
            volume_capabilities=[cap], parameters={"position": position},
            accessibility_requirements=pb2.TopologyRequirement(requisite=[topo], preferred=[topo]))
        try:
            return self.controller.CreateVolume(req, timeout=60).volume
        except grpc.RpcError as e:
            raise StepFailed(f"CreateVolume {name!r}: {e.code().name}: {e.details()}") from e
