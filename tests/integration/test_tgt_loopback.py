# SPDX-License-Identifier: Apache-2.0
"""slio-tgt end to end on loopback, with slio-perf as the host."""
import json
import os
import signal
import socket
import struct
import subprocess
import time

import pytest
from conftest import RpcError, binary, target_stats, wait_for_io, wait_until

NQN1 = "nqn.2024-01.io.slite:it1"
NQN2 = "nqn.2024-01.io.slite:it2"
HOST_A = "nqn.2024-01.io.slite:host-a"
HOST_B = "nqn.2024-01.io.slite:host-b"


def verify_args(bs, qd, queues, size, *extra):
    return ["-w", "verify", "-o", bs, "-q", qd, "--queues", queues, "--size", size, "--json",
            *extra]


def test_data_integrity_many_queues_two_hosts(target, perf, tmp_path):
    target.export(NQN1, tmp_path / "a.img", hosts=[HOST_A])
    target.export(NQN2, tmp_path / "b.img", hosts=[HOST_B])
    # two hosts at once: small I/O in-capsule on one, 128 KiB (R2T/H2CData) on the other
    p1 = perf.start("load", NQN1, "--hostnqn", HOST_A, *verify_args("4k", 32, 4, "32M"))
    p2 = perf.start("load", NQN2, "--hostnqn", HOST_B, *verify_args("128k", 8, 3, "30M"))
    for p, blocks in ((p1, (32 << 20) // 512), (p2, (30 << 20) // 512)):
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        res = json.loads(out)
        assert res["mismatches"] == 0 and res["errors"] == 0
        assert res["verified_blocks"] == blocks
        assert res["writes"] > 0 and res["reads"] == res["writes"]


def test_acl_refusal_is_prompt_and_named(target, perf, tmp_path):
    target.export(NQN1, tmp_path / "a.img", hosts=[HOST_A])
    t0 = time.monotonic()
    r = perf.run("identify", NQN1, "--hostnqn", HOST_B, timeout=30)
    assert time.monotonic() - t0 < 5, "a refused Connect must be answered, not left to time out"
    assert r.returncode != 0
    assert "refused" in r.stderr and HOST_B in r.stderr, r.stderr
    ok, _ = perf.json("identify", NQN1, "--hostnqn", HOST_A)
    assert ok["namespace"]["nsze"] == (32 << 20) // 512
    # the discovery log shows a host only what it may use
    seen_a, _ = perf.json("discover", None, "--hostnqn", HOST_A, "--json")
    seen_b, _ = perf.json("discover", None, "--hostnqn", HOST_B, "--json")
    assert NQN1 in [e["subnqn"] for e in seen_a["entries"]]
    assert NQN1 not in [e["subnqn"] for e in seen_b["entries"]]


def controllers(target, nqn):
    return target.rpc("nvmf_subsystem_get_controllers", {"nqn": nqn})


def test_keep_alive_expiry(target, perf, tmp_path):
    target.export(NQN1, tmp_path / "a.img")
    p = perf.start("connect", NQN1, "--kato", 1000, "--hold", 60)
    try:
        line = p.stdout.readline()
        assert line.startswith("connected"), p.stderr.read() if p.poll() is not None else line
        # keep-alives flowing (one per KATO/2): the controller must outlive several KATOs
        t0 = time.monotonic()
        wait_for_io(target, at_least=5, timeout=10)
        assert time.monotonic() - t0 > 2.0, "5 keep-alives at 500 ms intervals took under 2 s"
        assert len(controllers(target, NQN1)) == 1
        p.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        while controllers(target, NQN1) and time.monotonic() - t0 < 6:
            time.sleep(0.1)
        gone = time.monotonic() - t0
        assert not controllers(target, NQN1), "silent host's controller not torn down"
        assert gone < 3.5, f"controller torn down only after {gone:.1f} s with KATO 1 s"
        p.send_signal(signal.SIGCONT)
        _, err = p.communicate(timeout=15)
        assert p.returncode != 0 and "association lost" in err, err
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.kill()
            p.wait()


@pytest.mark.parametrize("hdgst,ddgst", [(False, False), (True, False), (False, True),
                                         (True, True)])
def test_digests(target, perf, tmp_path, hdgst, ddgst):
    target.export(NQN1, tmp_path / "a.img")
    flags = (["--hdgst"] if hdgst else []) + (["--ddgst"] if ddgst else [])
    ident, _ = perf.json("identify", NQN1, *flags)
    assert ident["hdgst"] == hdgst and ident["ddgst"] == ddgst
    assert ident["version"] == "1.3"  # slio-tgt's VS property
    for bs in ("4k", "128k"):
        res, _ = perf.json("load", NQN1, *verify_args(bs, 8, 2, "16M"), *flags)
        assert res["mismatches"] == 0 and res["verified_blocks"] == (16 << 20) // 512


def test_default_disk_batch_is_two(target):
    """Disk I/O goes to the kernel in pairs unless told otherwise (docs/performance.md)."""
    assert "poll 50 us, disk batch 2" in target.logtail(), target.logtail()


@pytest.mark.parametrize("engine,batch", [("io_uring", 0), ("io_uring", 2), ("epoll", 0)])
def test_both_engines_end_to_end(target, perf, tmp_path, engine, batch):
    """Each engine moves verified data, small (in-capsule) and large (R2T, C2H in chunks).

    The io_uring engine sends and receives with ring operations, the epoll
    engine with recv/sendmsg: both must carry the same traffic. Unless the
    test directory is on tmpfs, io_uring also carries the backing I/O, in one
    submission per loop iteration or every --disk-batch requests; the epoll
    engine's reads and writes of the (O_DIRECT) file go to Linux AIO."""
    target.stop()
    target.start(extra=("--engine", engine, "--disk-batch", str(batch)))
    assert f"engine {engine}, poll 50 us, disk batch {batch}" in target.logtail(), \
        target.logtail()
    target.export(NQN1, tmp_path / "a.img")
    # the host waits with hybrid polling (sleep, then spin) in one of the runs
    host = ("--hybrid",) if batch else ()
    for bs, qd in (("4k", 32), ("128k", 8)):
        res, _ = perf.json("load", NQN1, *verify_args(bs, qd, 2, "16M", "--ddgst", *host))
        assert res["mismatches"] == 0 and res["errors"] == 0
        assert res["verified_blocks"] == (16 << 20) // 512


@pytest.mark.parametrize("opt,value,expect", [
    ("--disk-batch", "x", '--disk-batch "x": expected 0 to 4096'),
    ("--disk-batch", "4097", '--disk-batch "4097": expected 0 to 4096'),
    ("--reactors", "0", '--reactors "0": expected 1 to 1024'),
    ("--poll-us", "-2", '--poll-us "-2": expected -1 to 10000000'),
    ("--poll-us", "11s", '--poll-us "11s": expected -1 to 10000000 (us), or a duration up to 10s'),
    # durations want a unit; the -ms spellings also take a bare number of ms
    ("--icreq-timeout", "300", '--icreq-timeout "300": expected a duration (10s, 500ms)'),
    ("--pdu-timeout-ms", "2h", '--pdu-timeout-ms "2h": expected a duration (10s, 500ms, or a '
                               'number of ms) of at most 1h'),
    ("--idle-release", "soon", '--idle-release "soon": expected a duration'),
    ("--connect-timeout-ms", "-1", '--connect-timeout-ms "-1": expected a duration'),
    ("--engine", "spdk", '--engine "spdk": expected auto, io_uring or epoll'),
])
def test_bad_option_is_named(tmp_path, opt, value, expect):
    r = subprocess.run([binary("tgt/slio-tgt"), "-r", str(tmp_path / "t.sock"), opt, value],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and expect in r.stderr, (r.returncode, r.stderr)
    assert not (tmp_path / "t.sock").exists(), "a refused start must not open the socket"


def test_every_duration_takes_units_and_old_spellings_still_work(tmp_path):
    """Each spelling parses (--help after them exits 0 only if all did): durations with
    units, the -ms and -us spellings with bare numbers or with units, -1 and 0."""
    r = subprocess.run([binary("tgt/slio-tgt"), "-r", str(tmp_path / "t.sock"),
                        "--icreq-timeout", "1s", "--connect-timeout", "1m", "--pdu-timeout", "500ms",
                        "--idle-release", "0", "--icreq-timeout-ms", "300",
                        "--connect-timeout-ms", "2s", "--pdu-timeout-ms", "0",
                        "--idle-release-ms", "250us", "--poll-us", "50", "--poll-us", "1ms",
                        "--poll-us", "-1", "--rpc-idle-timeout", "1h", "--help"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    for opt in ("--icreq-timeout T", "--connect-timeout T", "--pdu-timeout T",
                "--idle-release T", "--icreq-timeout-ms", "--poll-us T"):
        assert opt in r.stdout, opt


def test_resize_seen_by_host(target, perf, tmp_path):
    img = tmp_path / "a.img"
    bdev = target.export(NQN1, img, size=16 << 20)
    before, _ = perf.json("identify", NQN1)
    assert before["namespace"]["nsze"] == (16 << 20) // 512
    os.truncate(img, 48 << 20)
    target.rpc("bdev_aio_rescan", {"name": bdev})
    after, _ = perf.json("identify", NQN1)
    assert after["namespace"]["nsze"] == (48 << 20) // 512
    # the new space is usable
    res, _ = perf.json("load", NQN1, "-w", "verify", "-o", "4k", "-q", 8, "--offset", "32M",
                       "--size", "16M", "--json")
    assert res["mismatches"] == 0


def test_qos_iops_limit(target, perf, tmp_path):
    bdev = target.export(NQN1, tmp_path / "a.img")
    target.rpc("bdev_set_qos_limit", {"name": bdev, "rw_ios_per_sec": 2000})
    res, _ = perf.json("load", NQN1, "-w", "randread", "-o", "4k", "-q", 32, "-t", 3, "--json")
    assert 1800 <= res["iops"] <= 2200, f"QoS 2000 IOPS, measured {res['iops']:.0f}"
    target.rpc("bdev_set_qos_limit", {"name": bdev, "rw_ios_per_sec": 0})
    res, _ = perf.json("load", NQN1, "-w", "randread", "-o", "4k", "-q", 32, "-t", 1, "--json")
    assert res["iops"] > 2200 * 2, "removing the limit must lift it"


def save_config(target, path):
    cfg = target.rpc("save_config")
    path.write_text(json.dumps(cfg))
    return path


def test_save_load_config(target, perf, tmp_path):
    target.export(NQN1, tmp_path / "a.img", hosts=[HOST_A])
    journal = tmp_path / "j.bin"
    r = perf.run("load", NQN1, "--hostnqn", HOST_A, "-w", "write", "--fua", "--journal",
                 journal, "-o", "4k", "-q", 16, "--size", "8M", "-t", 1)
    assert r.returncode == 0, r.stderr
    cfg = save_config(target, tmp_path / "saved.json")
    target.stop()
    target.start(config=cfg)
    ident, _ = perf.json("identify", NQN1, "--hostnqn", HOST_A)
    assert ident["namespace"]["nsze"] == (32 << 20) // 512
    r = perf.run("identify", NQN1, "--hostnqn", HOST_B)
    assert r.returncode != 0, "the host ACL must survive save/load"
    res, _ = perf.json("load", NQN1, "--hostnqn", HOST_A, "-w", "verify", "--journal", journal,
                       "-o", "4k", "-q", 16, "--size", "8M", "--json")
    assert res["mismatches"] == 0 and res["verified_blocks"] > 0


def test_kill9_acknowledged_writes_survive(target, perf, tmp_path):
    target.export(NQN1, tmp_path / "a.img")
    cfg = save_config(target, tmp_path / "saved.json")
    journal = tmp_path / "j.bin"
    p = perf.start("load", NQN1, "-w", "write", "--fua", "--journal", journal, "-o", "4k", "-q",
                   16, "--queues", 2, "--size", "16M", "-t", 30, "--timeout", 3000)
    # enough acknowledged writes journaled before the kill (the journal is the host's record)
    wait_until(lambda: p.poll() is not None or (journal.exists() and journal.stat().st_size > 200 * 32),
               "200 acknowledged writes in the journal", timeout=20)
    assert p.poll() is None, p.stderr.read()
    target.kill9()
    _, err = p.communicate(timeout=30)
    assert p.returncode != 0, "the host must notice the target died"
    records = journal.stat().st_size // 32
    assert records > 100, f"only {records} acknowledged writes before the kill"
    target.start(config=cfg)
    res, r = perf.json("load", NQN1, "-w", "verify", "--journal", journal, "-o", "4k", "-q", 16,
                       "--queues", 2, "--size", "16M", "--json", ok=False)
    assert r.returncode == 0 and res["mismatches"] == 0, r.stderr[-3000:]


# --- malformed input -------------------------------------------------------------------------

def icreq(hlen=128, plen=128, digest=0):
    return struct.pack("<BBBBIHBBI", 0, 0, hlen, 0, plen, 0, 0, digest, 0) + bytes(112)


def connect_raw(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(5)
    return s


def handshake(s, digest=0):
    s.sendall(icreq(digest=digest))
    resp = b""
    while len(resp) < 128:
        chunk = s.recv(128 - len(resp))
        assert chunk, "target closed instead of answering a valid ICReq"
        resp += chunk
    assert resp[0] == 0x01 and resp[2] == 128


def expect_term_or_close(s):
    """The target must answer with a C2HTermReq and/or close — promptly, never hang."""
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pytest.fail(f"target neither closed nor sent a TermReq within 5 s (got {data[:32]!r})")
    except ConnectionResetError:
        pass
    assert data == b"" or data[0] == 0x03, f"expected C2HTermReq (0x03), got {data[:24]!r}"
    s.close()


def capsule(plen=72, hlen=72, flags=0, pdo=0, sqe=None):
    sqe = sqe or bytes(64)
    return struct.pack("<BBBBI", 0x04, flags, hlen, pdo, plen) + sqe


BAD_INPUTS = {
    "garbage": lambda s: s.sendall(os.urandom(200)),
    "icreq_wrong_hlen": lambda s: s.sendall(icreq(hlen=64)),
    "icreq_huge_plen": lambda s: s.sendall(icreq(plen=0xFFFFFFF0)),
    "capsule_before_icreq": lambda s: s.sendall(capsule()),
    "huge_plen_capsule": lambda s: (handshake(s), s.sendall(capsule(plen=0xFFFFFFF0, pdo=72))),
    "wrong_hlen_capsule": lambda s: (handshake(s), s.sendall(capsule(hlen=40))),
    "unknown_pdu_type": lambda s: (handshake(s), s.sendall(struct.pack("<BBBBI", 0x7E, 0, 8, 0, 8))),
    "bad_header_digest": lambda s: (handshake(s, digest=1),
                                    s.sendall(capsule(plen=76, flags=1) + b"\xde\xad\xbe\xef")),
    "h2cdata_unknown_tag": lambda s: (handshake(s), s.sendall(
        struct.pack("<BBBBIHHIII", 0x06, 4, 24, 24, 24 + 512, 5, 999, 0, 512, 0) + bytes(512))),
}


def test_bad_input_isolated(target, perf, tmp_path):
    target.export(NQN1, tmp_path / "a.img")
    load = perf.start("load", NQN1, "-w", "randrw", "-o", "4k", "-q", 16, "-t", 8, "--json")
    wait_until(lambda: load.poll() is not None or target_stats(target)["current_io_qpairs"] > 0,
               "the load's I/O queue")
    wait_for_io(target, at_least=100)
    for name, send in BAD_INPUTS.items():
        s = connect_raw(target.port)
        try:
            send(s)
        except (BrokenPipeError, ConnectionResetError):
            # the target already cut the connection while we were still sending (garbage
            # after a TermReq): still read what it left and require the close
            pass
        expect_term_or_close(s)
        assert target.alive(), f"slio-tgt died on {name}:\n{target.logtail()}"
        assert load.poll() is None, f"the load ended during {name}: {load.stderr.read()}"
    # a peer that connects and goes silent must not disturb others either
    idle = connect_raw(target.port)
    out, err = load.communicate(timeout=60)
    idle.close()
    assert load.returncode == 0, err
    res = json.loads(out)
    assert res["errors"] == 0 and res["ios"] > 0
    ident, _ = perf.json("identify", NQN1)
    assert ident["namespace"]["nsze"] > 0


def closed_by_target(s, within):
    """The target closes s (EOF or reset) without a byte, within `within` seconds."""
    s.settimeout(within)
    try:
        data = s.recv(1)
    except ConnectionResetError:
        data = b""
    except socket.timeout:
        pytest.fail(f"connection still open after {within} s")
    s.close()
    return data == b""


def test_idle_peers_cost_nothing_for_long(target, perf, tmp_path):
    """Issue 17 finding 1 through slio-tgt's command line: a peer that never sends its ICReq
    or never connects is closed at its deadline, and one address cannot open more than
    --max-conns-per-host connections; real hosts are unaffected."""
    target.stop()
    # the ICReq deadline in the unit-suffixed spelling, the Connect one in the first (-ms)
    target.start(extra=("--icreq-timeout", "300ms", "--connect-timeout-ms", "300"))
    target.export(NQN1, tmp_path / "a.img")
    t0 = time.monotonic()
    silent = connect_raw(target.port)
    no_connect = connect_raw(target.port)
    handshake(no_connect)
    assert closed_by_target(silent, 5) and closed_by_target(no_connect, 5)
    assert time.monotonic() - t0 < 3
    assert "no ICReq within the ICReq timeout" in target.logtail()
    assert "no successful Connect within the Connect timeout" in target.logtail()
    # three at once from 127.0.0.1; the fourth is refused at accept
    target.stop()
    target.start(extra=("--max-conns-per-host", "3"))
    target.export(NQN1, tmp_path / "b.img")
    held = [connect_raw(target.port) for _ in range(3)]
    for s in held:
        handshake(s)
    assert closed_by_target(connect_raw(target.port), 5)
    assert "too many connections from this address" in target.logtail()
    for s in held:
        s.close()
    # gone: their places are free again (an identify needs two connections)
    wait_until(lambda: perf.run("identify", NQN1).returncode == 0, "a host to connect again")


# --- SPDK-compatible RPC results and codes (docs/tgt-rpc.md) ----------------------------------

def rpc_error(target, method, params=None):
    with pytest.raises(RpcError) as e:
        target.rpc(method, params)
    return e.value.error


# every integer member SPDK v23.01 returns per bdev in bdev_get_iostat
IOSTAT_INTS = [f"{p}{kind}_latency_ticks" for kind in ("read", "write", "unmap", "copy")
               for p in ("", "max_", "min_")] + [
    "bytes_read", "num_read_ops", "bytes_written", "num_write_ops", "bytes_unmapped",
    "num_unmap_ops", "bytes_copied", "num_copy_ops"]


def check_latency(st, kind, n):
    """The sum, max and min of n completed I/Os of one kind must agree with each other."""
    total, hi, lo = (st[f"{p}{kind}_latency_ticks"] for p in ("", "max_", "min_"))
    assert lo <= hi <= total, (kind, lo, hi, total)
    assert hi > 0 or total == 0, (kind, hi, total)
    assert lo * n <= total <= hi * n, (kind, n, lo, hi, total)


def test_rpc_bdev_results_after_io(target, perf, tmp_path):
    bdev = target.export(NQN1, tmp_path / "a.img")
    res, _ = perf.json("load", NQN1, *verify_args("4k", 8, 2, "8M"))
    assert res["mismatches"] == 0 and res["reads"] > 0 and res["writes"] > 0
    types = target.rpc("bdev_get_bdevs", {"name": bdev})[0]["supported_io_types"]
    assert {k for k, v in types.items() if v is True} == {"read", "write", "flush", "unmap",
                                                         "write_zeroes"}
    assert {k for k, v in types.items() if v is False} == {
        "reset", "compare", "compare_and_write", "abort", "nvme_admin", "nvme_io",
        # added by SPDK v24.09
        "nvme_io_md", "zcopy", "get_zone_info", "zone_management", "zone_append", "seek_hole",
        "seek_data", "copy", "nvme_iov_md"}
    st = target.rpc("bdev_get_iostat", {"name": bdev})["bdevs"][0]
    for k in IOSTAT_INTS:
        assert isinstance(st[k], int) and st[k] >= 0, (k, st.get(k))
    assert st["io_error"] == {}
    assert st["num_read_ops"] == res["reads"] and st["num_write_ops"] == res["writes"]
    assert all(st[k] == 0 for k in IOSTAT_INTS if "copy" in k or "copied" in k)
    for kind in ("read", "write"):
        check_latency(st, kind, st[f"num_{kind}_ops"])


def test_rpc_nvmf_results(target, tmp_path):
    target.export(NQN1, tmp_path / "a.img")
    tr = target.rpc("nvmf_get_transports")
    assert len(tr) == 1 and tr[0]["trtype"] == "TCP"
    for k in ("num_shared_buffers", "buf_cache_size", "sock_priority", "abort_timeout_sec",
              "ack_timeout", "data_wr_pool_size"):
        assert type(tr[0][k]) is int and tr[0][k] == 0, (k, tr[0][k])
    for k in ("dif_insert_or_strip", "zcopy", "c2h_success"):
        assert tr[0][k] is False, (k, tr[0][k])
    sub = target.rpc("nvmf_get_subsystems", {"nqn": NQN1})[0]
    assert sub["listen_addresses"] == [{"transport": "TCP", "trtype": "TCP", "adrfam": "IPv4",
                                        "traddr": "127.0.0.1", "trsvcid": str(target.port)}]
    # save_config keeps SPDK-loadable params: no "transport" in a listener, no ignored option
    saved = {s["subsystem"]: s["config"] for s in target.rpc("save_config")["subsystems"]}
    calls = {c["method"]: c["params"] for c in saved["nvmf"]}
    assert "transport" not in calls["nvmf_subsystem_add_listener"]["listen_address"]
    assert not {"num_shared_buffers", "c2h_success"} & set(calls["nvmf_create_transport"])


def test_rpc_error_codes(target, tmp_path):
    target.export(NQN1, tmp_path / "a.img")
    # the target cannot do what was asked: -32603, as SPDK
    e = rpc_error(target, "nvmf_create_transport", {"trtype": "TCP"})
    assert e["code"] == -32603 and "Transport type 'TCP' already exists" in e["message"], e
    e = rpc_error(target, "nvmf_create_subsystem", {"nqn": NQN1})
    assert e["code"] == -32603 and NQN1 in e["message"] and "already exists" in e["message"], e
    e = rpc_error(target, "nvmf_create_subsystem", {"nqn": "not-an-nqn"})
    assert e["code"] == -32603 and "not-an-nqn" in e["message"], e
    # missing or ill-typed parameters, and a bad serial number: -32602
    for params, name in (({}, "nqn"), ({"nqn": 7}, "nqn"),
                         ({"nqn": NQN2, "serial_number": "a\tb"}, "serial_number")):
        e = rpc_error(target, "nvmf_create_subsystem", params)
        assert e["code"] == -32602 and f"'{name}'" in e["message"], (params, e)
    assert [s["nqn"] for s in target.rpc("nvmf_get_subsystems")][1:] == [NQN1]


def save_config_like_rpc_py(target):
    """SPDK's rpc.py save_config: framework_get_subsystems, then framework_get_config each."""
    return {"subsystems": [
        {"subsystem": s["subsystem"],
         "config": target.rpc("framework_get_config", {"name": s["subsystem"]})}
        for s in target.rpc("framework_get_subsystems")]}


def test_rpc_framework_config_restores(target, perf, tmp_path):
    target.export(NQN1, tmp_path / "a.img", hosts=[HOST_A])
    subs = target.rpc("framework_get_subsystems")
    assert [(s["subsystem"], s["depends_on"]) for s in subs] == [("bdev", []), ("nvmf", ["bdev"])]
    saved = target.rpc("save_config")
    assembled = save_config_like_rpc_py(target)
    assert assembled == saved
    e = rpc_error(target, "framework_get_config", {"name": "nope"})
    assert e["code"] == -32602 and "'nope'" in e["message"], e
    assert "framework_get_config" in target.rpc("rpc_get_methods")

    cfg = tmp_path / "assembled.json"
    cfg.write_text(json.dumps(assembled))
    target.stop()
    target.start(config=cfg)
    ident, _ = perf.json("identify", NQN1, "--hostnqn", HOST_A)
    assert ident["namespace"]["nsze"] == (32 << 20) // 512
    assert target.rpc("save_config") == saved
