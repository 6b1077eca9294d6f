# SPDX-License-Identifier: Apache-2.0
"""The per-client rate limit and the audit log of slio-controller, on 127.0.0.x:
a peer over its token bucket is answered 429 with Retry-After (token guessing
included) while another peer address is not, the refusals are counted in
/metrics and the peer is served again once its bucket refilled; every mutating
call — a create, a delete, refusals — leaves one audit line saying who, from
where, what and the result, and no line holds a token."""
import http.client
import json
import time

import pytest

from controller_proc import TOKENS, Agent, Controller, GiB


def call_from(ctl, source, method, path, token=None, body=None):
    """One request from source (a 127.0.0.x address) to the controller on 127.0.0.1."""
    conn = http.client.HTTPConnection("127.0.0.1", ctl.port, timeout=10,
                                      source_address=(source, 0))
    headers = {"Authorization": f"Bearer {TOKENS.get(token, token)}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read()
        return r.status, dict(r.getheaders()), text
    finally:
        conn.close()


def metric(ctl, source, name):
    status, _, text = call_from(ctl, source, "GET", "/metrics")
    assert status == 200
    for line in text.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    pytest.fail(f"{name} not in /metrics")


@pytest.fixture
def limited(tmp_path):
    c = Controller(tmp_path, limits={"rate_limit": 5, "rate_burst": 10})
    c.start()  # its health polls come from 127.0.0.1: the tests below use other peers
    yield c
    c.stop()


def test_rate_limit_per_peer_429_retry_after_and_metric(limited):
    peer, other = "127.0.0.2", "127.0.0.3"
    statuses = [call_from(limited, peer, "GET", "/v1/health")[0] for _ in range(10)]
    assert statuses == [200] * 10  # the burst
    status, headers, text = call_from(limited, peer, "GET", "/v1/health")
    assert status == 429, text
    assert int(headers["Retry-After"]) >= 1
    assert json.loads(text)["error"]["code"] == "rate_limited"
    # token guessing is slowed down the same way: the limit comes before authentication
    status, _, _ = call_from(limited, peer, "POST", "/v1/volumes", token="guess-0123456789abcdef",
                             body={"name": "x", "size": GiB})
    assert status == 429
    # another peer has its own bucket
    assert call_from(limited, other, "GET", "/v1/health")[0] == 200
    assert metric(limited, other, "sliteio_controller_rate_limited_total") >= 2
    # the bucket refills at 5/s: the peer is served again within Retry-After
    t0 = time.monotonic()
    while call_from(limited, peer, "GET", "/v1/health")[0] == 429:
        assert time.monotonic() - t0 < int(headers["Retry-After"]) + 1, "still limited"
        time.sleep(0.05)


def test_no_rate_limit_by_default(tmp_path):
    c = Controller(tmp_path).start()
    try:
        statuses = {call_from(c, "127.0.0.4", "GET", "/v1/health")[0] for _ in range(60)}
        assert statuses == {200}
        assert metric(c, "127.0.0.4", "sliteio_controller_rate_limited_total") == 0
    finally:
        c.stop()


# ---- the audit log ---------------------------------------------------------------------------

def audit_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_audit_lines_for_create_delete_and_refusals(tmp_path):
    audit = tmp_path / "audit.jsonl"
    c = Controller(tmp_path, audit={"file": str(audit)}).start()
    try:
        Agent(c, "n-audit").register()
        vol = c.ok("POST", "/v1/volumes", {"name": "pvc-audit", "size": GiB}, token="csi")
        c.ok("DELETE", f"/v1/volumes/{vol['id']}", token="csi")
        c.error("POST", "/v1/volumes", {"name": "pvc-ro", "size": GiB}, token="readonly",
                status=403)
        c.error("DELETE", f"/v1/volumes/{vol['id']}", token="made-up-token-0123456789",
                status=401)
        c.error("POST", "/v1/nodes/n-audit/pools/vg0/cordon", token=None, status=401)
        c.ok("GET", "/v1/volumes", token="readonly")  # a read: no line
    finally:
        c.stop()

    lines = audit_lines(audit)
    by = [(l["method"], l["path"], l["who"], l["status"]) for l in lines]
    assert by == [
        ("POST", "/v1/agent/register", "agent", 200),
        ("POST", "/v1/volumes", "csi", 201),
        ("DELETE", f"/v1/volumes/{vol['id']}", "csi", 202),
        ("POST", "/v1/volumes", "readonly", 403),
        ("DELETE", f"/v1/volumes/{vol['id']}", "unknown", 401),
        ("POST", "/v1/nodes/n-audit/pools/vg0/cordon", "none", 401),
    ], lines
    create = lines[1]
    assert create["name"] == "pvc-audit" and create["id"] == vol["id"]
    assert create["peer"] == "127.0.0.1" and create["time"].endswith("Z")
    assert "name" not in lines[3]  # a refused call's body is not even read
    text = audit.read_text()
    for tok in (*TOKENS.values(), "made-up-token-0123456789"):
        assert tok not in text
    assert oct(audit.stat().st_mode & 0o777) == "0o600"


def test_audit_to_the_log_without_a_file(tmp_path):
    c = Controller(tmp_path).start()
    try:
        c.error("POST", "/v1/volumes", {"name": "pvc-x", "size": GiB}, token="agent", status=403)
    finally:
        c.stop()
    log = c.logtail(100000)
    # the log quotes its message: the JSON line comes with its quotes escaped
    line = [l.replace('\\"', '"') for l in log.splitlines()
            if "comp=audit" in l and "/v1/volumes" in l]
    assert line and '"who":"agent"' in line[0] and '"status":403' in line[0], log[-3000:]
    assert TOKENS["agent"] not in log
