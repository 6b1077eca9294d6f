# SPDX-License-Identifier: Apache-2.0
"""slio-tgt's JSON-RPC side against a real process: the server's limits
(idle timeout, client cap, queued response bytes, SIGTERM under load), the
socket's file (private directory, mode, owner, peer credentials), and the
SPDK methods and behaviours of issue 18 (malloc bdevs, listeners and ANA
states, qpairs, framework option methods, save_config compatibility levels).
"""
import json
import os
import select
import signal
import socket
import stat
import subprocess
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conftest import RpcError, Target, binary, free_port

NOBODY = 65534


def start(tmp_path, *extra, sock=None, umask=None):
    t = Target(tmp_path, free_port())
    if sock:
        t.sock = str(sock)
    if umask is None:
        return t.start(extra=extra)
    old = os.umask(umask)  # inherited by the target
    try:
        return t.start(extra=extra)
    finally:
        os.umask(old)


def connect(t):
    s = socket.socket(socket.AF_UNIX)
    s.connect(t.sock)
    return s


def closed_within(s, seconds):
    """True when the server closes s (EOF or reset) within seconds, reading any answer."""
    s.settimeout(seconds)
    try:
        while s.recv(65536):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


# ---- the server's limits ----

def test_idle_client_is_dropped(tmp_path):
    t = start(tmp_path, "--rpc-idle-timeout", "1s")
    try:
        stalled = connect(t)
        stalled.sendall(b"{")
        t0 = time.monotonic()
        assert closed_within(stalled, 10), "a client that sent '{' and stalled was kept"
        assert 0.8 <= time.monotonic() - t0 < 5
        assert t.rpc("spdk_get_version")["fields"]["suffix"] == "-slio"
        stalled.close()
    finally:
        t.stop()


def test_stalled_clients_cannot_take_every_slot(tmp_path):
    t = start(tmp_path, "--rpc-max-clients", "4", "--rpc-idle-timeout", "0")
    try:
        stalled = [connect(t) for _ in range(4)]
        for s in stalled:
            s.sendall(b"{")
        # every slot is held: a real client still gets its answer, evicting the idlest
        assert t.rpc("bdev_get_bdevs", timeout=5) == []
        r, _, _ = select.select(stalled, [], [], 5)
        assert r and closed_within(r[0], 1), "no stalled client was evicted"
        assert t.rpc("bdev_get_bdevs", timeout=5) == []
        for s in stalled:
            s.close()
    finally:
        t.stop()


def make_big_state(t, n=48, hosts=8):
    """Subsystems with hosts, so that nvmf_get_subsystems answers ~40 KB."""
    for i in range(n):
        nqn = f"nqn.2016-06.io.spdk:big{i}"
        t.rpc("nvmf_create_subsystem", {"nqn": nqn})
        for h in range(hosts):
            t.rpc("nvmf_subsystem_add_host",
                  {"nqn": nqn, "host": f"nqn.2014-08.org.nvmexpress:uuid:{i:08d}-0000-0000-0000-{h:012d}"})
    return len(json.dumps(t.rpc("nvmf_get_subsystems")))


def flood(t, nreq, rid=0):
    """A client that writes nreq nvmf_get_subsystems requests and reads nothing."""
    s = connect(t)
    s.setblocking(False)
    req = b"".join(json.dumps({"jsonrpc": "2.0", "id": rid + i,
                               "method": "nvmf_get_subsystems"}).encode() for i in range(nreq))
    sent = 0
    deadline = time.monotonic() + 5
    while sent < len(req) and time.monotonic() < deadline:
        _, w, _ = select.select([], [s], [], 0.2)
        if w:
            try:
                sent += s.send(req[sent:sent + 65536])
            except BlockingIOError:
                pass
    return s, req[:sent].count(b'"method"')


def test_unread_responses_are_capped(tmp_path):
    t = start(tmp_path, "--rpc-max-queued", "256Ki")
    try:
        size = make_big_state(t)
        assert size > 30000
        before = rss_kib(t.proc.pid)
        s, nreq = flood(t, 1500)
        # the target answers others meanwhile, and its memory stays bounded
        assert t.rpc("spdk_get_version", timeout=5)
        grown = rss_kib(t.proc.pid) - before
        assert grown < 16 * 1024, f"RSS grew {grown} KiB for one client that does not read"
        # once the client reads, every request it managed to send is answered, in order
        s.setblocking(True)
        s.settimeout(20)
        dec, buf, ids = json.JSONDecoder(), b"", []
        while len(ids) < nreq:
            chunk = s.recv(1 << 20)
            assert chunk, f"closed after {len(ids)} of {nreq} responses"
            buf += chunk
            text = buf.decode(errors="ignore")
            while True:
                text = text.lstrip()
                try:
                    resp, end = dec.raw_decode(text)
                except ValueError:
                    break
                ids.append(resp["id"])
                text = text[end:]
            buf = text.encode()
        assert ids == list(range(nreq))
        assert nreq * size > 16 << 20  # without the cap this would all be queued
        s.close()
    finally:
        t.stop()


def test_sigterm_is_answered_under_load(tmp_path):
    t = start(tmp_path, "--rpc-max-queued", "256Ki")
    make_big_state(t, 64, 24)
    clients = [flood(t, 1000, rid=1000 * i)[0] for i in range(16)]
    t0 = time.monotonic()
    t.proc.send_signal(signal.SIGTERM)
    try:
        rc = t.proc.wait(5)
    except subprocess.TimeoutExpired:
        t.proc.kill()
        t.proc.wait()
        pytest.fail("slio-tgt did not answer SIGTERM within 5 s under RPC load")
    assert rc == 0
    # without the per-client cap it builds every response first (2.8 s here, 0.1 s with it)
    assert time.monotonic() - t0 < 1.0
    t.proc = None
    t.log.close()
    for s in clients:
        s.close()


def test_limits_are_validated_on_the_command_line(tmp_path):
    for opt, bad in (("--rpc-max-clients", "0"), ("--rpc-idle-timeout", "soon"),
                     ("--rpc-max-queued", "1")):
        r = subprocess.run([binary("tgt/slio-tgt"), "-r", str(tmp_path / "x.sock"), opt, bad],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2 and opt in r.stderr, (opt, r.stderr)


# ---- the socket's file ----

def test_default_socket_is_private_and_shared_with_the_client():
    out = subprocess.run([binary("tgt/slio-tgt"), "--help"], capture_output=True, text=True).stdout
    cli = subprocess.run([binary("tgt/slio-tgt-rpc"), "--help"], capture_output=True,
                         text=True).stdout
    assert "/run/slio-tgt/rpc.sock" in out and "/run/slio-tgt/rpc.sock" in cli


def test_socket_and_directory_modes_ignore_the_umask(tmp_path):
    sock = tmp_path / "private" / "rpc.sock"
    t = start(tmp_path, sock=sock, umask=0)
    try:
        assert stat.S_IMODE(os.stat(sock.parent).st_mode) == 0o700
        st = os.lstat(sock)
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    finally:
        t.stop()


def refused(tmp_path, sock, needle):
    r = subprocess.run([binary("tgt/slio-tgt"), "-r", str(sock)], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode != 0, f"slio-tgt started on {sock}"
    assert needle in r.stderr, r.stderr


def test_foreign_paths_are_refused(tmp_path):
    # a socket someone else left (or planted) is not ours to remove or use
    planted = tmp_path / "planted.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(planted))
    s.close()
    os.chown(planted, NOBODY, NOBODY)
    refused(tmp_path, planted, "belongs to uid 65534")
    assert os.path.exists(planted)
    # a file that is not a socket
    regular = tmp_path / "regular.sock"
    regular.write_text("")
    refused(tmp_path, regular, "not a socket")
    # a directory of another user, and one anybody can write to
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)
    refused(tmp_path, theirs / "rpc.sock", "belongs to uid 65534")
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    refused(tmp_path, shared / "rpc.sock", "writable by other users")


def as_nobody_call(sock):
    """A child with uid 65534 sends one request; prints what came back."""
    code = ("import os,socket,sys\n"
            f"os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY})\n"
            "d=b''\n"
            "try:\n"
            "    s=socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])\n"
            "    s.sendall(b'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"spdk_get_version\"}')\n"
            "    while not d.endswith(b'\\n'):\n"
            "        c=s.recv(65536)\n"
            "        if not c: break\n"
            "        d+=c\n"
            "except OSError as e: print('ERR', e)\n"
            "print('GOT', d.decode())\n")
    return subprocess.run(["/usr/bin/python3", "-c", code, sock], capture_output=True, text=True,
                          timeout=20)


@pytest.fixture
def open_dir():
    """A directory uid 65534 can reach (pytest's tmp_path is private to root)."""
    d = tempfile.mkdtemp(prefix="slio-rpc-", dir="/tmp")
    os.chmod(d, 0o755)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def test_peer_credentials_are_checked(tmp_path, open_dir):
    t = start(tmp_path, sock=open_dir / "rpc.sock")
    try:
        os.chmod(t.sock, 0o666)  # a mistake the peer check must still catch
        r = as_nobody_call(t.sock)
        assert r.returncode == 0, r.stderr
        assert "GOT {" not in r.stdout, f"uid 65534 was answered: {r.stdout}"
        wait_for(lambda: "refusing a client of uid 65534" in t.logtail(), 5, "the refusal")
        assert t.rpc("spdk_get_version")  # root still may
    finally:
        t.stop()
