# SPDX-License-Identifier: Apache-2.0
"""Helpers of the slio-csi suite: Python stubs generated at test time from our
csi/proto/csi.proto (python3-grpc-tools), and the slio-csi process."""
import importlib
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest

REPO = Path(__file__).resolve().parents[2]


def generate_stubs(outdir):
    """csi_pb2 / csi_pb2_grpc from our .proto, imported from outdir."""
    from grpc_tools import protoc
    wkt = Path(protoc.__file__).parent / "_proto"
    proto_dir = REPO / "csi" / "proto"
    rc = protoc.main(["protoc", f"-I{proto_dir}", f"-I{wkt}", f"--python_out={outdir}",
                      f"--grpc_python_out={outdir}", str(proto_dir / "csi.proto")])
    if rc != 0:
        pytest.fail(f"grpc_tools.protoc failed on csi.proto (exit {rc})", pytrace=False)
    sys.path.insert(0, str(outdir))
    pb2 = importlib.import_module("csi_pb2")
    pb2_grpc = importlib.import_module("csi_pb2_grpc")
    return pb2, pb2_grpc


class Csi:
    """One slio-csi process on a unix socket, with stubs of the three services."""

    def __init__(self, exe, workdir, controller_url, pb2, pb2_grpc, mode="all", extra=(),
                 endpoint=None):
        self.dir = Path(workdir)
        self.sock = self.dir / "csi.sock"
        self.pb2, self.pb2_grpc = pb2, pb2_grpc
        self.log = open(self.dir / "csi.log", "w")
        token = self.dir / "token"
        token.write_text("csi-token\n")
        self.sysfs = self.dir / "sys"
        (self.sysfs / "class" / "nvme").mkdir(parents=True, exist_ok=True)
        (self.sysfs / "block").mkdir(parents=True, exist_ok=True)
        self.mountinfo = self.dir / "mountinfo"
        self.mountinfo.write_text("")
        endpoint = endpoint or f"unix://{self.sock}"
        self.argv = [exe, "--mode", mode, "--endpoint", endpoint,
                     "--controller", controller_url, "--token-file", str(token),
                     "--node-id", "node-a", "--rack", "r1", "--zone", "z1", "--max-volumes", "64",
                     "--state-dir", str(self.dir), "--sysfs-root", str(self.sysfs),
                     "--mountinfo", str(self.mountinfo), "--host-nqn-dir", str(self.dir), *extra]
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.channel = grpc.insecure_channel(endpoint.removeprefix("tcp://"))
        try:
            grpc.channel_ready_future(self.channel).result(timeout=10)
        except grpc.FutureTimeoutError:
            self.stop()
            pytest.fail(f"slio-csi did not listen on {self.sock}:\n{self.logtail()}", pytrace=False)
        self.identity = pb2_grpc.IdentityStub(self.channel)
        self.controller = pb2_grpc.ControllerStub(self.channel)
        self.node = pb2_grpc.NodeStub(self.channel)

    def logtail(self, n=4000):
        if not self.log.closed:
            self.log.flush()
        return (self.dir / "csi.log").read_text()[-n:]

    def raw(self, method, payload, timeout=5):
        """Call a method with raw request bytes (malformed input)."""
        call = self.channel.unary_unary(method, request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
        return call(payload, timeout=timeout)

    def stop(self):
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail("slio-csi did not stop within 10 s of SIGTERM", pytrace=False)
        self.log.close()
        return self.proc.returncode


def code_of(excinfo):
    return excinfo.value.code()


def wait_for(pred, timeout=10, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.01)
    pytest.fail(f"timed out waiting for {what}")
