# SPDX-License-Identifier: Apache-2.0
"""The file engine's snapshots are reflinks (FICLONE) where the filesystem has
them: on a real XFS (reflink on, mkfs.xfs's default) mounted from a loop
image, a snapshot of a volume full of data takes almost no space, its
extents are shared with the volume's (fiemap), and writing the volume
afterwards leaves the snapshot as it was. On ext4 (no reflink) the same
call copies. Runs slio-engine-tool; needs root, the loop driver and
xfsprogs (their absence FAILS the test)."""
import hashlib
import os
import shutil
import subprocess
import json

import pytest

from conftest import binary

MiB = 1 << 20
V = "11111111-1111-4111-8111-111111111111"
S = "22222222-2222-4222-8222-222222222222"
FIEMAP_EXTENT_SHARED = 0x2000


def run(*argv, **kw):
    p = subprocess.run(list(argv), capture_output=True, text=True, timeout=120, **kw)
    assert p.returncode == 0, f"{argv}: {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p.stdout


@pytest.fixture
def xfs(tmp_path):
    for prog in ("mkfs.xfs", "xfs_io", "mount", "umount"):
        assert shutil.which(prog), f"{prog} is missing (xfsprogs, util-linux)"
    img, mnt = tmp_path / "xfs.img", tmp_path / "mnt"
    mnt.mkdir()
    with open(img, "wb") as f:
        f.truncate(512 * MiB)
    run("mkfs.xfs", "-q", "-m", "reflink=1", str(img))
    run("mount", "-o", "loop", str(img), str(mnt))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], timeout=60)


def tool(cfg, *args):
    return json.loads(run(binary("agent/engine/slio-engine-tool"), "-c", str(cfg), *args))


def pool(d):
    cfg = d / "agent.yaml"
    cfg.write_text(f"pool:\n  name: demo\n  engine: file\n"
                   f"  file: {{dir: {d}/pool, capacity: 256Mi}}\n")
    return cfg


def fill(path, n):
    with open(path, "r+b") as f:
        f.write(os.urandom(n))
        f.flush()
        os.fsync(f.fileno())


def digest(path, n):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read(n)).hexdigest()


def free_bytes(d):
    st = os.statvfs(d)
    return st.f_bavail * st.f_frsize


def shared_extents(path):
    """Extents of path whose fiemap flags say shared (xfs_io -c 'fiemap -v')."""
    out = run("xfs_io", "-r", "-c", "fiemap -v", str(path))
    n = 0
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 5 and cols[0].rstrip(":").isdigit() and cols[-1].startswith("0x"):
            n += bool(int(cols[-1], 16) & FIEMAP_EXTENT_SHARED)
    return n


def test_snapshot_is_a_reflink_on_xfs(xfs):
    # thin: a thick image's never-written part is preallocated (unwritten extents are not
    # shared by XFS's remap), so its snapshot reserves that part again — by design
    cfg = pool(xfs)
    vol = tool(cfg, "create", V, "64Mi", "--thin")
    fill(vol["path"], 48 * MiB)
    before_v = digest(vol["path"], 64 * MiB)
    os.sync()
    free0 = free_bytes(xfs)
    snap = tool(cfg, "snapshot", V, S)
    os.sync()
    used = free0 - free_bytes(xfs)
    assert used < 4 * MiB, f"the snapshot took {used} bytes: copied, not reflinked"
    assert shared_extents(snap["path"]) > 0 and shared_extents(vol["path"]) > 0
    assert digest(snap["path"], 64 * MiB) == before_v
    # the volume changes; the snapshot does not (copy on write of the shared blocks)
    fill(vol["path"], 8 * MiB)
    assert digest(vol["path"], 64 * MiB) != before_v
    assert digest(snap["path"], 64 * MiB) == before_v
    tool(cfg, "delete-snapshot", S)
    tool(cfg, "delete", V)


def test_snapshot_is_a_copy_without_reflink(tmp_path):
    fs = run("stat", "-f", "-c", "%T", str(tmp_path)).strip()
    assert fs in ("ext2/ext3", "tmpfs"), f"{tmp_path} is on {fs}: this test needs no-reflink"
    cfg = pool(tmp_path)
    vol = tool(cfg, "create", V, "16Mi")
    fill(vol["path"], 8 * MiB)
    before_v = digest(vol["path"], 16 * MiB)
    snap = tool(cfg, "snapshot", V, S)
    assert digest(snap["path"], 16 * MiB) == before_v
    fill(vol["path"], 1 * MiB)
    assert digest(snap["path"], 16 * MiB) == before_v
