# SPDX-License-Identifier: Apache-2.0
"""DH-HMAC-CHAP in slio-tgt, with slio-perf as the authenticating host.

Keys are made by `nvme gen-dhchap-key` (nvme-cli) when it is installed, as an
operator would, else by the same format written here (base64 of key || CRC-32).
"""
import base64
import json
import os
import shutil
import struct
import subprocess
import zlib

import pytest
from conftest import RpcError

NQN = "nqn.2024-01.io.slite:auth1"
HOST = "nqn.2024-01.io.slite:host-auth"
OTHER = "nqn.2024-01.io.slite:host-other"


def gen_key(hh=1, nqn=HOST):
    if shutil.which("nvme"):
        r = subprocess.run(["nvme", "gen-dhchap-key", "-m", str(hh), "-n", nqn],
                           capture_output=True, text=True, check=True)
        return r.stdout.strip()
    key = os.urandom({0: 32, 1: 32, 2: 48, 3: 64}[hh])
    crc = struct.pack("<I", zlib.crc32(key) & 0xFFFFFFFF)
    return "DHHC-1:%02x:%s:" % (hh, base64.b64encode(key + crc).decode())


def add_key(target, tmp_path, name, secret, mode=0o600):
    p = tmp_path / f"{name}.key"
    p.write_text(secret + "\n")
    os.chmod(p, mode)
    target.rpc("keyring_file_add_key", {"name": name, "path": str(p)})
    return p


def setup_auth(target, tmp_path, ckey=False, hh=1):
    """An export for HOST with a host key (and a controller key): returns the secrets."""
    target.export(NQN, tmp_path / "a.img")
    target.rpc("nvmf_subsystem_allow_any_host", {"nqn": NQN, "allow_any_host": False})
    hs, cs = gen_key(hh), gen_key(hh, NQN) if ckey else None
    add_key(target, tmp_path, "key0", hs)
    params = {"nqn": NQN, "host": HOST, "dhchap_key": "key0"}
    if ckey:
        add_key(target, tmp_path, "ckey0", cs)
        params["dhchap_ctrlr_key"] = "ckey0"
    target.rpc("nvmf_subsystem_add_host", params)
    return hs, cs


def verify(perf, *auth, size="4M", queues=2):
    return perf.run("load", NQN, "--hostnqn", HOST, "-w", "verify", "-o", "4k", "-q", 8,
                    "--queues", queues, "--size", size, "--json", *auth, timeout=120)


def assert_verified(r, size=4 << 20):
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["mismatches"] == 0 and res["errors"] == 0
    assert res["verified_blocks"] == size // 512


def test_right_key_authenticates_every_queue_and_data_verifies(target, perf, tmp_path):
    hs, _ = setup_auth(target, tmp_path)
    assert_verified(verify(perf, "--dhchap-secret", hs))
    assert "authenticated" in target.logtail(20000)
    assert hs.split(":")[2][:16] not in target.logtail(100000), "key material in the log"


def test_missing_or_wrong_key_refused(target, perf, tmp_path):
    setup_auth(target, tmp_path)
    r = perf.run("identify", NQN, "--hostnqn", HOST, timeout=30)
    assert r.returncode != 0 and "no --dhchap-secret" in r.stderr, r.stderr
    r = perf.run("identify", NQN, "--hostnqn", HOST, "--dhchap-secret", gen_key(), timeout=30)
    assert r.returncode != 0 and "refused our response" in r.stderr, r.stderr
    assert "authentication failed" in target.logtail(20000)
    # a host without a key entry is still refused by the ACL
    r = perf.run("identify", NQN, "--hostnqn", OTHER, timeout=30)
    assert r.returncode != 0 and "refused" in r.stderr


def test_bidirectional_and_wrong_controller_key(target, perf, tmp_path):
    hs, cs = setup_auth(target, tmp_path, ckey=True)
    assert_verified(verify(perf, "--dhchap-secret", hs, "--dhchap-ctrl-secret", cs))
    assert "authenticated both ways" in target.logtail(20000)
    # the host refuses a controller that cannot prove the controller key
    r = perf.run("identify", NQN, "--hostnqn", HOST, "--dhchap-secret", hs,
                 "--dhchap-ctrl-secret", gen_key(1, NQN), timeout=30)
    assert r.returncode != 0 and "controller's response is wrong" in r.stderr, r.stderr
    assert "refused the controller's response" in target.logtail(20000)


def test_controller_key_asked_but_not_configured_fails(target, perf, tmp_path):
    hs, _ = setup_auth(target, tmp_path)
    r = perf.run("identify", NQN, "--hostnqn", HOST, "--dhchap-secret", hs,
                 "--dhchap-ctrl-secret", gen_key(1, NQN), timeout=30)
    assert r.returncode != 0


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha512"])
@pytest.mark.parametrize("dhgroup", ["null", "ffdhe2048", "ffdhe4096", "ffdhe8192"])
def test_every_digest_with_dh_groups(target, perf, tmp_path, digest, dhgroup):
    hh = {"sha256": 1, "sha384": 2, "sha512": 3}[digest]
    hs, cs = setup_auth(target, tmp_path, ckey=True, hh=hh)
    target.rpc("nvmf_set_config", {"dhchap_digests": [digest], "dhchap_dhgroups": [dhgroup]})
    assert_verified(verify(perf, "--dhchap-secret", hs, "--dhchap-ctrl-secret", cs,
                           size="1M", queues=1), size=1 << 20)
    assert f"authenticated both ways ({digest}, {dhgroup})" in target.logtail(20000)


def test_rotation_keeps_connected_host(target, perf, tmp_path):
    hs, _ = setup_auth(target, tmp_path)
    p = perf.start("connect", NQN, "--hostnqn", HOST, "--dhchap-secret", hs, "--kato", 1000,
                   "--hold", 6)
    try:
        line = p.stdout.readline()
        assert line.startswith("connected"), p.stderr.read()
        new = gen_key()
        add_key(target, tmp_path, "key1", new)
        target.rpc("nvmf_subsystem_set_keys", {"nqn": NQN, "host": HOST, "dhchap_key": "key1"})
        # the old key no longer admits a new association, the new one does
        r = perf.run("identify", NQN, "--hostnqn", HOST, "--dhchap-secret", hs, timeout=30)
        assert r.returncode != 0
        r = perf.run("identify", NQN, "--hostnqn", HOST, "--dhchap-secret", new, timeout=30)
        assert r.returncode == 0, r.stderr
        ctrls = target.rpc("nvmf_subsystem_get_controllers", {"nqn": NQN})
        assert len(ctrls) >= 1
        # the first association lived through the rotation, keep-alives and all
        _, err = p.communicate(timeout=30)
        assert p.returncode == 0, err
    finally:
        if p.poll() is None:
            p.kill()


def test_keyring_rpcs_and_save_config_hold_no_key(target, tmp_path):
    secret = gen_key()
    key = tmp_path / "loose.key"
    key.write_text(secret)
    os.chmod(key, 0o644)
    with pytest.raises(RpcError) as e:
        target.rpc("keyring_file_add_key", {"name": "k", "path": str(key)})
    assert str(key) in str(e.value) and "0600" in str(e.value)
    os.chmod(key, 0o600)
    target.rpc("keyring_file_add_key", {"name": "k", "path": str(key)})
    with pytest.raises(RpcError):
        target.rpc("keyring_file_add_key", {"name": "k", "path": str(key)})
    keys = target.rpc("keyring_get_keys")
    assert keys == [{"name": "k", "module": "keyring_file", "path": str(key), "removed": False}]
    target.export(NQN, tmp_path / "a.img", hosts=[])
    with pytest.raises(RpcError):
        target.rpc("nvmf_subsystem_add_host", {"nqn": NQN, "host": HOST, "dhchap_key": "nope"})
    target.rpc("nvmf_subsystem_add_host", {"nqn": NQN, "host": HOST, "dhchap_key": "k"})
    target.rpc("nvmf_set_config", {"dhchap_digests": ["sha512"], "dhchap_dhgroups": ["ffdhe3072"]})
    with pytest.raises(RpcError):
        target.rpc("nvmf_set_config", {"dhchap_digests": ["md5"]})
    with pytest.raises(RpcError):
        target.rpc("keyring_file_remove_key", {"name": "k"})  # in use
    cfg = json.dumps(target.rpc("save_config"))
    assert secret.split(":")[2][:12] not in cfg and "DHHC-1" not in cfg
    assert '"keyring_file_add_key"' in cfg and '"dhchap_key": "k"' in cfg
    assert '"dhchap_digests": ["sha512"]' in cfg
    # the saved configuration loads into a fresh target, keys and all
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(target.rpc("save_config")))
    target.stop()
    target.start(config=saved)
    assert target.rpc("keyring_get_keys")[0]["name"] == "k"
    target.rpc("nvmf_subsystem_remove_host", {"nqn": NQN, "host": HOST})
    target.rpc("keyring_file_remove_key", {"name": "k"})
    assert target.rpc("keyring_get_keys") == []
