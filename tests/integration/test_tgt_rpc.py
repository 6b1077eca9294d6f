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
import sys
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, RpcError, Target, binary, free_port

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


# ---- SPDK parity (issue 18) ----

sys.path.insert(0, str(REPO / "tests/compat"))
import spdk_rpc_compat as compat  # noqa: E402

sys.path.pop(0)

NQN = "nqn.2016-06.io.spdk:cnode1"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:5b0c3f5e-1f4c-4a49-9d7e-2b1f7a0c6d11"


def listen(port):
    return {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": str(port)}


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
            return True
        except OSError:
            return False


def export_malloc(t, mib=16):
    assert t.rpc("bdev_malloc_create", {"name": "m0", "num_blocks": mib * 2048,
                                        "block_size": 512}) == "m0"
    t.rpc("nvmf_create_transport", {"trtype": "TCP"})
    t.rpc("nvmf_create_subsystem", {"nqn": NQN, "allow_any_host": True})
    t.rpc("nvmf_subsystem_add_ns", {"nqn": NQN, "namespace": {"bdev_name": "m0"}})
    t.rpc("nvmf_subsystem_add_listener", {"nqn": NQN, "listen_address": listen(t.port)})


def test_malloc_bdev_serves_verified_io(target):
    export_malloc(target)
    b = target.rpc("bdev_get_bdevs", {"name": "m0"})[0]
    assert b["product_name"] == "Malloc disk" and b["num_blocks"] == 16 * 2048
    r = subprocess.run([binary("perf/slio-perf"), "load", "-a", "127.0.0.1", "-s",
                        str(target.port), "-n", NQN, "-w", "verify", "-o", "4k", "-q", "8",
                        "--queues", "2", "--size", "16M", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["mismatches"] == 0 and res["verified_blocks"] == (16 << 20) // 512
    with pytest.raises(RpcError) as e:
        target.rpc("bdev_malloc_delete", {"name": "m0"})
    assert e.value.error["code"] == -16  # EBUSY: a namespace holds it
    target.rpc("nvmf_delete_subsystem", {"nqn": NQN})
    assert target.rpc("bdev_malloc_delete", {"name": "m0"}) is True
    assert target.rpc("bdev_get_bdevs") == []


def test_qpairs_of_a_connected_host(target):
    export_malloc(target)
    p = subprocess.Popen([binary("perf/slio-perf"), "load", "-a", "127.0.0.1", "-s",
                          str(target.port), "-n", NQN, "--hostnqn", HOSTNQN, "-w", "randread",
                          "-o", "4k", "-q", "4", "--queues", "2", "-t", "30"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        qp = lambda: target.rpc("nvmf_subsystem_get_qpairs", {"nqn": NQN})  # noqa: E731
        wait_for(lambda: len(qp()) == 3, 10, "an admin and two I/O queues")
        q = qp()
        assert [x["qid"] for x in q] == [0, 1, 2]
        assert all(x["hostnqn"] == HOSTNQN and x["state"] == "active" for x in q)
        assert all(x["listen_address"] == listen(target.port) for x in q)
        ctrl = target.rpc("nvmf_subsystem_get_controllers", {"nqn": NQN})
        assert [c["cntlid"] for c in ctrl] == [q[0]["cntlid"]] and ctrl[0]["num_io_qpairs"] == 2
    finally:
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=15)
    wait_for(lambda: target.rpc("nvmf_subsystem_get_qpairs", {"nqn": NQN}) == [], 10,
             "the queues to go")


def test_listeners_ana_states_survive_a_restart(tmp_path):
    saved = tmp_path / "saved.json"
    t = start(tmp_path, "--save-config", str(saved))
    export_malloc(t)
    la = listen(t.port)
    assert t.rpc("nvmf_subsystem_add_listener", {"nqn": NQN, "listen_address": la}) is True
    t.rpc("nvmf_subsystem_listener_set_ana_state",
          {"nqn": NQN, "listen_address": la, "ana_state": "inaccessible"})
    before = t.rpc("nvmf_subsystem_get_listeners", {"nqn": NQN})
    assert before == [{"address": la, "ana_states": [{"ana_group": 1,
                                                      "ana_state": "inaccessible"}]}]
    t.kill9()
    os.unlink(t.sock)
    # the killed target's listener goes with its io_uring, which the kernel tears down
    # after the process is reaped: wait until the port can be listened on again
    wait_for(lambda: port_free(t.port), 10, f"port {t.port} to be released")
    t.start(config=saved, extra=("--save-config", str(saved)))
    try:
        assert t.rpc("nvmf_subsystem_get_listeners", {"nqn": NQN}) == before
    finally:
        t.stop()


def test_aio_bad_block_size_is_einval(target, tmp_path):
    img = tmp_path / "a.img"
    img.write_bytes(b"\0" * (1 << 20))
    r = subprocess.run([binary("tgt/slio-tgt-rpc"), "-s", target.sock, "bdev_aio_create",
                        json.dumps({"name": "a", "filename": str(img), "block_size": 1000})],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and r.stderr.startswith("error -22:"), r.stderr


@pytest.mark.parametrize("release", ["v23.05", "v24.09"])
def test_spdk_written_config_loads_with_rpc_py(tmp_path, release):
    """SPDK's own load_config algorithm refuses a file naming one method the
    target does not list; an nvmf_tgt's whole save_config must go through."""
    doc = json.loads((REPO / f"tests/compat/spdk_configs/{release}.json").read_text()
                     .replace("@BACKING@", str(tmp_path / "a.img")))
    (tmp_path / "a.img").write_bytes(b"\0" * (4 << 20))
    t = start(tmp_path, "--spdk-compat", release)
    try:
        call = lambda m, p: t.rpc(m, p)  # noqa: E731
        assert compat.rpc_py_load_config(call, doc) == []
        sub = t.rpc("nvmf_get_subsystems", {"nqn": NQN})[0]
        assert [n["bdev_name"] for n in sub["namespaces"]] == ["aio0", "Malloc0"]
        assert sub["namespaces"][0]["uuid"] == "5a8b2e0f-6c3d-4b1a-9e7f-0123456789ab"
        assert t.rpc("bdev_get_bdevs", {"name": "aio0"})[0]["assigned_rate_limits"][
            "rw_ios_per_sec"] == 10000
        # what rpc.py save_config assembles: SPDK's options back in their subsystems,
        # every call within this release's decoders
        ours = {"subsystems": [{"subsystem": s["subsystem"],
                                "config": t.rpc("framework_get_config", {"name": s["subsystem"]})}
                               for s in t.rpc("framework_get_subsystems")]}
        names = [s["subsystem"] for s in ours["subsystems"]]
        assert names == ["iobuf", "sock", "accel", "bdev", "scheduler", "nvmf"]
        assert compat.schema_errors(ours, release) == []
        sock_calls = [c for s in ours["subsystems"] if s["subsystem"] == "sock"
                      for c in s["config"]]
        assert [c["params"].get("impl_name") for c in sock_calls] == ["posix", "ssl", "posix"]
        # the newest schema is not v23.05's: the compatibility level matters
        newest = t.rpc("save_config", {"spdk_version": "v25.09"})
        assert compat.schema_errors(newest, "v25.09") == []
        assert any("uuid is unknown" in e for e in compat.schema_errors(newest, "v23.05"))
        # and it loads back into a fresh target through rpc.py again
        t.stop()
        (tmp_path / "again").mkdir()
        t2 = start(tmp_path / "again")
        try:
            assert compat.rpc_py_load_config(lambda m, p: t2.rpc(m, p), ours) == []
            assert t2.rpc("nvmf_get_subsystems", {"nqn": NQN})[0]["namespaces"] == \
                sub["namespaces"]
        finally:
            t2.stop()
    finally:
        if t.proc:
            t.stop()


def test_unknown_method_still_refuses_a_config(tmp_path):
    t = start(tmp_path)
    try:
        doc = {"subsystems": [{"subsystem": "vhost_scsi", "config": [
            {"method": "vhost_create_scsi_controller", "params": {"ctrlr": "v0"}}]}]}
        with pytest.raises(compat.RpcPyError, match="Unknown method"):
            compat.rpc_py_load_config(lambda m, p: t.rpc(m, p), doc)
    finally:
        t.stop()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_descriptors_does_not_spin(tmp_path):
    """With every descriptor taken, a pending RPC connection must not make the
    server spin on accept() or flood the log (issue 17, finding 2)."""
    import resource

    def low_nofile():
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))
    t = Target(tmp_path, free_port())
    t.logpath = tmp_path / "tgt.log"
    t.log = open(t.logpath, "w")
    t.proc = subprocess.Popen([binary("tgt/slio-tgt"), "-r", t.sock, "--reactors", "1",
                               "--rpc-idle-timeout", "0", "--rpc-max-clients", "4096"],
                              stdout=t.log, stderr=subprocess.STDOUT, preexec_fn=low_nofile)
    wait_for(lambda: os.path.exists(t.sock), 10, "the RPC socket")
    held = []
    try:
        fds = lambda: len(os.listdir(f"/proc/{t.proc.pid}/fd"))  # noqa: E731
        while fds() < 128 and len(held) < 200:
            held.append(connect(t))
            held[-1].sendall(b"{")
            wait_for(lambda: fds() >= 128 or fds() > len(held), 5, "the accept")
        extra = [connect(t) for _ in range(3)]  # queued: accept() fails with EMFILE
        t0 = time.monotonic()
        c0 = cpu_seconds(t.proc.pid)
        time.sleep(1.0)  # measuring CPU use over a second: there is no event to wait for
        used = cpu_seconds(t.proc.pid) - c0
        assert used < 0.1, f"{used:.2f} s of CPU in {time.monotonic() - t0:.2f} s: spinning"
        assert t.logtail(100000).count("Too many open files") <= 10
        # descriptors come back: the queued clients are served
        for s in held[:8]:
            s.close()
        extra[0].settimeout(5)
        extra[0].sendall(json.dumps({"jsonrpc": "2.0", "id": 1,
                                     "method": "spdk_get_version"}).encode())
        assert b"slio-tgt" in extra[0].recv(65536)
        for s in held[8:] + extra:
            s.close()
    finally:
        t.stop()
