# SPDX-License-Identifier: Apache-2.0
"""A consumer node's DH-HMAC-CHAP secrets on slio-controller (PUT/GET/DELETE
/v1/nodes/{node}/dhchap): admin-only to set, never answered by any GET,
list, event, metric or log line (only "configured" and key ids), and handed
to exactly one agent — the one exporting a volume to that node — inside its
desired state; changes bump that agent's desired revision at once."""
import hashlib
import json

import pytest

from controller_proc import GiB, Agent, Controller

# As `nvme gen-dhchap-key` prints them; the base64 parts are what must never leak.
HOST_KEY = "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYOtVl3:"
CTRL_KEY = "DHHC-1:00:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTCf/nwX:"
NEW_KEY = "DHHC-1:01:cm90YXRlZC1rZXktcm90YXRlZC1rZXktcm90YXRlZCGfaVSe:"
SECRETS = [k.split(":")[2] for k in (HOST_KEY, CTRL_KEY, NEW_KEY)]


def key_id(secret):
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def assert_no_secret(what, payload):
    text = payload if isinstance(payload, str) else json.dumps(payload)
    for s in SECRETS:
        assert s not in text, f"{what} leaks a DH-HMAC-CHAP secret"


@pytest.fixture
def ctl(tmp_path):
    c = Controller(tmp_path).start()
    yield c
    c.stop()


def remote_volume(ctl):
    """node-a holds a volume exported to node-b; node-c is a bystander with its own volume."""
    a, b, c = Agent(ctl, "node-a"), Agent(ctl, "node-b", pools=[]), Agent(ctl, "node-c")
    for x in (a, b, c):
        x.register()
    v = ctl.ok("POST", "/v1/volumes", {"name": "pvc-auth", "size": GiB, "position": "must_local",
                                       "consumer_node": "node-a"}, token="csi")
    w = ctl.ok("POST", "/v1/volumes", {"name": "pvc-other", "size": GiB, "position": "must_local",
                                       "consumer_node": "node-c"}, token="csi")
    a.reconcile()
    c.reconcile()
    ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    ctl.ok("POST", f"/v1/volumes/{w['id']}/attachments", {"node": "node-c"}, token="csi")
    return a, b, c, v


def everything_readable(ctl, v):
    """Every GET an admin or a client can make that could carry a node's secrets."""
    paths = ["/v1/nodes", "/v1/nodes/node-b", "/v1/nodes/node-a", "/v1/pools", "/v1/volumes",
             f"/v1/volumes/{v['id']}", f"/v1/volumes/{v['id']}/attachments/node-b",
             "/v1/events", "/v1/events?object=node-b", "/v1/orphans", "/v1/nodes/node-b/dhchap"]
    out = {p: ctl.ok("GET", p) for p in paths}
    out["/metrics"] = ctl.call("GET", "/metrics", token=None)[1]
    return out


def test_set_only_by_admin_and_never_read_back(ctl):
    a, b, c, v = remote_volume(ctl)
    body = {"host_key": HOST_KEY, "ctrl_key": CTRL_KEY}
    for tok in ("csi", "agent", "readonly"):
        ctl.error("PUT", "/v1/nodes/node-b/dhchap", body, token=tok, status=403, code="forbidden")
    assert ctl.ok("GET", "/v1/nodes/node-b/dhchap") == {"node": "node-b", "configured": False}
    got = ctl.ok("PUT", "/v1/nodes/node-b/dhchap", body)
    assert got["configured"] and got["bidirectional"]
    assert got["host_key_id"] == key_id(HOST_KEY) and got["ctrl_key_id"] == key_id(CTRL_KEY)
    assert_no_secret("the PUT answer", got)
    for tok in ("admin", "csi", "agent", "readonly"):
        seen = ctl.ok("GET", "/v1/nodes/node-b/dhchap", token=tok)
        assert seen["configured"] and set(seen) == {"node", "configured", "host_key_id",
                                                    "ctrl_key_id", "bidirectional", "updated_at"}
    for path, payload in everything_readable(ctl, v).items():
        assert_no_secret(f"GET {path}", payload)
    events = [e for e in ctl.ok("GET", "/v1/events?object=node-b")["items"]
              if e["reason"] == "DhchapKeysSet"]
    assert len(events) == 1 and key_id(HOST_KEY) in events[0]["message"]
    assert_no_secret("the controller's log", ctl.logtail(1 << 20))


def test_only_the_exporting_agent_receives_them(ctl):
    a, b, c, v = remote_volume(ctl)
    before = a.desired()["revision"]
    others = {n.node: n.desired()["revision"] for n in (b, c)}
    ctl.ok("PUT", "/v1/nodes/node-b/dhchap", {"host_key": HOST_KEY, "ctrl_key": CTRL_KEY})
    d = a.desired()
    assert d["revision"] > before, "the exporting agent must learn of the keys at once"
    exports = d["volumes"][0]["exports"]
    assert exports == [{"host_nqn": b.host_nqn, "node": "node-b", "dhchap_key": HOST_KEY,
                        "dhchap_ctrl_key": CTRL_KEY}]
    # the consumer itself and a bystander (with its own local attachment) get nothing
    for n in (b, c):
        dn = n.desired()
        assert_no_secret(f"desired state of {n.node}", dn)
        assert dn["revision"] == others[n.node]
    # rotation: the new secret replaces the old, a one-way export stays one way
    ctl.ok("PUT", "/v1/nodes/node-b/dhchap", {"host_key": NEW_KEY})
    exports = a.desired()["volumes"][0]["exports"]
    assert exports == [{"host_nqn": b.host_nqn, "node": "node-b", "dhchap_key": NEW_KEY}]
    assert ctl.ok("GET", "/v1/nodes/node-b/dhchap")["host_key_id"] == key_id(NEW_KEY)
    # removal: the agent learns at once that the host connects without keys again
    rev = a.desired()["revision"]
    assert ctl.call("DELETE", "/v1/nodes/node-b/dhchap")[0] == 204
    assert ctl.call("DELETE", "/v1/nodes/node-b/dhchap")[0] == 204
    d = a.desired()
    assert d["revision"] > rev
    assert d["volumes"][0]["exports"] == [{"host_nqn": b.host_nqn, "node": "node-b"}]
    assert ctl.ok("GET", "/v1/nodes/node-b/dhchap")["configured"] is False
    reasons = [e["reason"] for e in ctl.ok("GET", "/v1/events?object=node-b")["items"]]
    assert reasons.count("DhchapKeysRemoved") == 1
    assert_no_secret("the controller's log", ctl.logtail(1 << 20))


def test_survives_a_restart(ctl):
    a, b, c, v = remote_volume(ctl)
    ctl.ok("PUT", "/v1/nodes/node-b/dhchap", {"host_key": HOST_KEY})
    ctl.kill9()
    ctl.start()
    assert a.desired()["volumes"][0]["exports"][0]["dhchap_key"] == HOST_KEY
    assert ctl.ok("GET", "/v1/nodes/node-b/dhchap")["host_key_id"] == key_id(HOST_KEY)


def test_bad_bodies_name_the_field_never_the_value(ctl):
    bad_value = "DHHC-1:01:bm90LWEtdmFsaWQta2V5LWJ1dC1zZWNyZXQ=:"
    cases = [
        ({"host_key": bad_value}, "field 'host_key'"),
        ({"host_key": HOST_KEY, "ctrl_key": bad_value}, "field 'ctrl_key'"),
        ({"host_key": HOST_KEY, "ctrl_key": HOST_KEY}, "the same secret"),
        ({"ctrl_key": CTRL_KEY}, "host_key"),
        ({"host_key": HOST_KEY, "extra": 1}, "unknown field"),
        ({"host_key": "DHHC-1:01:" + "A" * 200 + ":"}, "host_key"),
    ]
    for body, want in cases:
        msg = ctl.error("PUT", "/v1/nodes/node-b/dhchap", body, code="invalid_argument")
        assert want in msg, msg
        assert "bm90LWEt" not in msg and SECRETS[0] not in msg
    ctl.error("PUT", "/v1/nodes/Not_A_Name/dhchap", {"host_key": HOST_KEY}, status=404)
    assert ctl.ok("GET", "/v1/nodes/node-b/dhchap")["configured"] is False
    assert "bm90LWEt" not in ctl.logtail(1 << 20)
