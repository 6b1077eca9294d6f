# SPDX-License-Identifier: Apache-2.0
"""Namespaces backed by a file on tmpfs: reads are sent from the file's pages
(registry/bdev_map.c). Data stays right with and without digests, a deleted
bdev's mapping goes once no response uses it, and a file truncated behind the
target's back costs that connection only."""
import os
import signal
import time
import uuid

import pytest
from conftest import Perf, RpcError, require_or_allowed, target_stats, wait_for_io, wait_until

NQN = "nqn.2024-01.io.slite:mem1"
NQN_DISK = "nqn.2024-01.io.slite:disk1"
SIZE = 32 << 20


def on_tmpfs(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path and line.split()[2] == "tmpfs" for line in f)


def io_uring_available():
    """io_uring_setup(2) answers: ENOSYS (compiled out) or EPERM (seccomp, sysctl) mean no."""
    import ctypes
    import errno
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.syscall(425, 0, None)  # io_uring_setup(0 entries, NULL): EINVAL when present
    return r == 0 or ctypes.get_errno() not in (errno.ENOSYS, errno.EPERM)


def start_engine(target, engine):
    """Restart the target on `engine`; io_uring missing FAILS unless SLIO_ALLOW_NO_IO_URING=1."""
    if engine == "io_uring":
        require_or_allowed(io_uring_available(), "SLIO_ALLOW_NO_IO_URING", "io_uring")
    target.stop()
    target.start(extra=("--engine", engine))


@pytest.fixture
def shm_file():
    # the mapped-read path needs a tmpfs: its absence fails rather than skips
    require_or_allowed(on_tmpfs("/dev/shm"), "SLIO_ALLOW_NO_SHM_TMPFS", "/dev/shm on tmpfs")
    path = f"/dev/shm/slio-it-{uuid.uuid4().hex[:12]}.img"
    yield path
    if os.path.exists(path):
        os.unlink(path)


def mapped(pid, path):
    with open(f"/proc/{pid}/maps") as f:
        return any(path in line for line in f)


def verify(perf, bs, qd, queues, *flags):
    res, _ = perf.json("load", NQN, "-w", "verify", "-o", bs, "-q", qd, "--queues", queues,
                       "--size", str(SIZE), "--json", *flags)
    assert res["mismatches"] == 0 and res["errors"] == 0, res
    assert res["verified_blocks"] == SIZE // 512


@pytest.mark.parametrize("engine,flags", [("io_uring", ()), ("io_uring", ("--hdgst",)),
                                          ("io_uring", ("--ddgst",)), ("epoll", ())])
def test_reads_from_pages_keep_data_right(target, perf, shm_file, engine, flags):
    start_engine(target, engine)
    target.export(NQN, shm_file, size=SIZE)
    assert "reads are sent from the pages" in target.logtail(), target.logtail()
    assert mapped(target.proc.pid, shm_file)
    verify(perf, "4k", 32, 4, *flags)  # with --ddgst the reads copy: the digest needs the bytes
    verify(perf, "128k", 8, 2, *flags)


def test_mapping_goes_with_the_bdev(target, perf, shm_file):
    """A host stops reading with responses queued, dies, and its export is removed: nothing
    keeps the pages (the requests dropped with their connection give their references back)."""
    bdev = target.export(NQN, shm_file, size=SIZE)
    p = perf.start("load", NQN, "-w", "read", "-o", "128k", "-q", 127, "--queues", 2, "-t", 30)
    wait_for_io(target, at_least=256)
    assert p.poll() is None, p.communicate()[1]
    p.send_signal(signal.SIGSTOP)  # the socket buffers fill: responses wait in the target
    # stopped: the target's completions stall once the host's socket buffers are full
    last = [-1]

    def stalled():
        now = target_stats(target)["completed_nvme_io"]
        done, last[0] = now == last[0], now
        return done
    wait_until(stalled, "the stopped host's responses to back up", timeout=10)
    p.send_signal(signal.SIGKILL)
    p.wait()
    target.rpc("nvmf_delete_subsystem", {"nqn": NQN})
    deadline = time.monotonic() + 10
    while True:  # the connections close asynchronously; the namespace holds the bdev till then
        try:
            target.rpc("bdev_aio_delete", {"name": bdev})
            break
        except RpcError as e:  # -16: a namespace still uses it
            assert time.monotonic() < deadline, f"{e}\n{target.logtail()}"
            time.sleep(0.1)
    while mapped(target.proc.pid, shm_file):
        assert time.monotonic() < deadline, "the deleted bdev's file is still mapped"
        time.sleep(0.1)


@pytest.mark.parametrize("engine", ["io_uring", "epoll"])
def test_truncated_file_costs_one_connection(target, perf, shm_file, tmp_path, engine):
    """The file shrinks under a read load without a rescan: mapped reads beyond its end
    fail inside sendmsg (EFAULT: a ring completion, or sendmsg's errno on the epoll engine),
    which closes that connection; the target and its other exports carry on."""
    start_engine(target, engine)
    target.export(NQN, shm_file, size=SIZE)
    target.export(NQN_DISK, tmp_path / "d.img", size=8 << 20)
    p = perf.start("load", NQN, "-w", "randread", "-o", "4k", "-q", 32, "-t", 4, "--json")
    wait_for_io(target, at_least=1000)  # mapped reads are flowing
    os.truncate(shm_file, 1 << 20)
    p.communicate(timeout=60)
    assert p.returncode != 0, "reads beyond the new end of the file cannot have succeeded"
    assert target.alive(), target.logtail()
    assert "beyond the end of its memory file" in target.logtail(), target.logtail()
    res, _ = Perf(target.port).json("load", NQN_DISK, "-w", "verify", "-o", "4k", "-q", 8,
                                    "--size", str(8 << 20), "--json")
    assert res["mismatches"] == 0 and res["errors"] == 0
