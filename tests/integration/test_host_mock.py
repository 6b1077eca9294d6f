# SPDX-License-Identifier: Apache-2.0
"""slio-perf's host side against nvme_tcp_mock.py, an independent minimal
controller: several R2Ts per write, H2CData split by a small MAXH2CDATA,
split C2HData with the SUCCESS flag, digests, ACL refusal, lost connections."""
import time

import pytest

from conftest import Perf
from nvme_tcp_mock import MockTarget

NQN = "nqn.mock:subsystem1"


@pytest.fixture
def mock():
    m = MockTarget(size=8 << 20)
    yield m
    m.close()


@pytest.fixture
def mperf(mock):
    return Perf(mock.port)


def test_identify_and_connect_sequence(mock, mperf):
    ident, _ = mperf.json("identify", NQN, "--kato", 5000)
    assert ident["model"] == "SLIO mock" and ident["serial"] == "MOCK0001"
    assert ident["mdts"] == 5 and ident["max_xfer"] == 131072
    assert ident["version"] == "1.4"  # the mock's VS property, 0x10400
    assert ident["namespace"] == {"nsid": 1, "nsze": 16384, "ncap": 16384, "nuse": 16384,
                                  "block_size": 512, "size_bytes": 8 << 20}
    assert mock.kato == 5000
    assert mock.connects[0][0] == 0 and mock.connects[0][1] == NQN
    assert mock.cc & 1 == 1 and (mock.cc >> 14) & 3 == 1, "CC.EN then CC.SHN normal at exit"


def test_discover(mock, mperf):
    log, _ = mperf.json("discover", None, "--json")
    assert log["numrec"] == 1
    assert log["entries"][0]["subnqn"] == NQN
    assert log["entries"][0]["trsvcid"] == str(mock.port)
    assert mock.connects[0][1] == "nqn.2014-08.org.nvmexpress.discovery"


@pytest.mark.parametrize("flags", [[], ["--hdgst"], ["--ddgst"], ["--hdgst", "--ddgst"],
                                   ["--sqflow"]])
@pytest.mark.parametrize("bs", ["4k", "128k"])
def test_verify(mock, mperf, flags, bs):
    res, _ = mperf.json("load", NQN, "-w", "verify", "-o", bs, "-q", 4, "--queues", 2,
                        "--size", "2M", "--json", *flags)
    assert res["mismatches"] == 0 and res["errors"] == 0
    assert res["verified_blocks"] == (2 << 20) // 512
    assert [c[0] for c in mock.connects] == [0, 1, 2]


def test_journal_verify_detects_corruption(mock, mperf, tmp_path):
    journal = tmp_path / "j.bin"
    res, _ = mperf.json("load", NQN, "-w", "write", "--fua", "--journal", journal, "-o", "4k",
                        "-q", 4, "--size", "1M", "-t", 0.3, "--json")
    assert res["writes"] > 0 and journal.stat().st_size == 32 * res["writes"]
    ok, _ = mperf.json("load", NQN, "-w", "verify", "--journal", journal, "-o", "4k", "-q", 4,
                       "--size", "1M", "--json")
    assert ok["mismatches"] == 0 and ok["writes"] == 0
    mock.ns[100] ^= 0xFF  # corrupt LBA 0 behind the tool's back
    bad, r = mperf.json("load", NQN, "-w", "verify", "--journal", journal, "-o", "4k", "-q", 4,
                        "--size", "1M", "--json", ok=False)
    assert r.returncode == 1 and bad["mismatches"] == 1
    assert "mismatch at LBA 0:" in r.stderr and "corrupt" in r.stderr


def test_refused_host(mock, mperf):
    t0 = time.monotonic()
    r = mperf.run("identify", NQN, "--hostnqn", "nqn.refused:host")
    assert time.monotonic() - t0 < 3
    assert r.returncode == 1
    assert "refused" in r.stderr and "nqn.refused:host" in r.stderr


def test_connect_notices_dead_connection(mock, mperf):
    p = mperf.start("connect", NQN, "--kato", 400, "--hold", 30)
    assert p.stdout.readline().startswith("connected")
    time.sleep(1)
    assert mock.keep_alives >= 1, "keep-alive every KATO/2"
    mock.drop_all()
    _, err = p.communicate(timeout=10)
    assert p.returncode == 1 and "association lost" in err and "queue 0" in err


def test_load_json_fields(mock, mperf):
    res, _ = mperf.json("load", NQN, "-w", "randrw", "-o", "8k", "-q", 4, "-t", 0.5, "--json")
    for k in ("iops", "mib_s", "lat_us", "cpu", "ios", "reads", "writes"):
        assert k in res
    lat = res["lat_us"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["p99_9"] <= lat["max"]
    assert res["reads"] > 0 and res["writes"] > 0


@pytest.mark.parametrize("evil,needle", [
    ("unknown_cid", "C2HData for unknown or non-read CID"),
    ("data_past_end", "C2HData offset out of range"),
    ("bad_hdgst", "header digest mismatch"),
    ("term", "C2HTermReq FES 0x6"),
    ("hlen", "malformed PDU header"),
])
def test_malformed_controller_output(mock, mperf, evil, needle):
    """The host names the queue and the cause, exits promptly, never crashes or hangs."""
    mock.evil = evil
    flags = ["--hdgst"] if evil == "bad_hdgst" else []
    t0 = time.monotonic()
    r = mperf.run("identify", NQN, *flags, timeout=20)
    assert time.monotonic() - t0 < 5
    assert r.returncode == 1, r.stderr
    assert "queue 0 (admin)" in r.stderr and needle in r.stderr, r.stderr
    if evil != "term":  # the host tells the controller why it gives up
        deadline = time.monotonic() + 2
        while mock.h2c_term_fes is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert mock.h2c_term_fes == (3 if evil == "bad_hdgst" else
                                     4 if evil == "data_past_end" else 1)
