# SPDX-License-Identifier: Apache-2.0
"""DH-HMAC-CHAP end to end on the control path, with the real slio-controller,
slio-agent (file engine) and slio-tgt: an admin sets a consumer node's
secrets, the exporting agent writes the key files (0600, private dir), adds
them to the target's keyring and the consumer's host with their names; a
rotation rewrites the file and keeps the host; a lost key file comes back
after a restart; unexporting removes keys and files.

Needs slio-tgt with keyring_file_add_key/keyring_file_remove_key and
nvmf_subsystem_add_host's dhchap_key/dhchap_ctrlr_key (branch auth-tgt):
against a target without them every test here FAILS (never skips)."""
import os
import stat

import pytest

import agent_helpers
from agent_helpers import (MiB, NQN_PREFIX, attachment_ready, create, new_agent, phase, poll_until,
                           running, subsystems)
from conftest import RpcError

ctl, consumer = agent_helpers.ctl, agent_helpers.consumer  # the shared fixtures

HOST_KEY = "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYOtVl3:"
CTRL_KEY = "DHHC-1:00:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTCf/nwX:"
NEW_KEY = "DHHC-1:01:cm90YXRlZC1rZXktcm90YXRlZC1rZXktcm90YXRlZCGfaVSe:"
AUTH_METHODS = {"keyring_file_add_key", "keyring_file_remove_key", "nvmf_subsystem_add_host"}


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def key_name(vid, host_nqn, ctrl=False):
    return f"slio-{vid}-{fnv1a64(host_nqn):016x}-{'c' if ctrl else 'h'}"


@pytest.fixture
def keys_dir(tmp_path):
    return tmp_path / "agent" / "state" / "dhchap"


@pytest.fixture
def agent(tmp_path, target, ctl, keys_dir):
    a = new_agent(tmp_path, target, ctl)
    a.conf.write_text(a.conf.read_text().replace(
        "timeout: 10s}", f'timeout: 10s, keys_dir: "{keys_dir}"}}'))
    with running(a, ctl):
        yield a


def host_entry(target, nqn, host_nqn):
    s = subsystems(target).get(nqn)
    return next((h for h in (s or {}).get("hosts", []) if h["nqn"] == host_nqn), None)


def read(p):
    try:
        return p.read_text()
    except FileNotFoundError:
        return None


def test_remote_volume_authenticated_keys_rotated_and_removed(agent, ctl, target, consumer,
                                                              keys_dir):
    methods = set(target.rpc("rpc_get_methods"))
    assert AUTH_METHODS <= methods, (
        f"slio-tgt lacks {sorted(AUTH_METHODS - methods)}: DH-HMAC-CHAP not merged (auth-tgt)")
    v = phase(ctl, create(ctl, "pvc-auth", 16 * MiB)["id"], "ready")
    nqn = NQN_PREFIX + v["id"]
    hname, cname = key_name(v["id"], consumer.host_nqn), key_name(v["id"], consumer.host_nqn, True)
    ctl.ok("PUT", "/v1/nodes/node-b/dhchap", {"host_key": HOST_KEY, "ctrl_key": CTRL_KEY})
    ctl.ok("POST", f"/v1/volumes/{v['id']}/attachments", {"node": "node-b"}, token="csi")
    attachment_ready(ctl, v["id"], agent=agent)
    h = host_entry(target, nqn, consumer.host_nqn)
    assert h and h.get("dhchap_key") == hname and h.get("dhchap_ctrlr_key") == cname, h
    assert read(keys_dir / hname) == HOST_KEY and read(keys_dir / cname) == CTRL_KEY
    assert stat.S_IMODE(os.stat(keys_dir / hname).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(keys_dir).st_mode) == 0o700
    assert sorted(os.listdir(keys_dir)) == sorted([hname, cname])
    for line in agent.logtail(1 << 20).splitlines() + target.logtail(1 << 20).splitlines():
        assert "MDEyMzQ1Njc4OWFi" not in line and "ZmVkY2JhOTg3NjU0" not in line, line

    # rotation: the file changes under its name, the host stays bound to it
    ctl.ok("PUT", "/v1/nodes/node-b/dhchap", {"host_key": NEW_KEY, "ctrl_key": CTRL_KEY})
    poll_until(lambda: read(keys_dir / hname) == NEW_KEY, 30, "rotated key file")
    h = host_entry(target, nqn, consumer.host_nqn)
    assert h and h.get("dhchap_key") == hname and h.get("dhchap_ctrlr_key") == cname, h

    # a key file lost while the agent was down (kill -9) comes back after the restart
    agent.kill9()
    os.unlink(keys_dir / cname)
    agent.start()
    poll_until(lambda: read(keys_dir / cname) == CTRL_KEY, 30, "key file rewritten")

    # one-way only: the controller key leaves keyring and disk, the host keeps its host key
    ctl.ok("PUT", "/v1/nodes/node-b/dhchap", {"host_key": NEW_KEY})
    poll_until(lambda: not (keys_dir / cname).exists(), 30, "controller key removed")
    h = host_entry(target, nqn, consumer.host_nqn)
    assert h and h.get("dhchap_key") == hname and not h.get("dhchap_ctrlr_key"), h

    # the consumer detaches: subsystem, keyring entries and files go
    ctl.ok("DELETE", f"/v1/volumes/{v['id']}/attachments/node-b", token="csi")
    poll_until(lambda: nqn not in subsystems(target), 30, "unexported")
    poll_until(lambda: not os.listdir(keys_dir), 30, "key files removed")
    # the keyring no longer knows the names: removing them again is refused
    for name in (hname, cname):
        with pytest.raises(RpcError):
            target.rpc("keyring_file_remove_key", {"name": name})
