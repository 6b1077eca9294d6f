# SPDX-License-Identifier: Apache-2.0
"""deploy/check: every deploy/k8s variant renders and validates offline, and
a deliberately broken variant is refused with each fault named."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, binary

CHECK = REPO / "deploy" / "check"
BROKEN = REPO / "tests" / "integration" / "data" / "deploy-broken"
PY = "/usr/bin/python3"


def run_check(*args):
    return subprocess.run([PY, str(CHECK), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_every_variant_and_containerfile_is_valid():
    proc = run_check()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for variant in ("sqlite-file", "sqlite-lvm", "etcd-ha-lvm"):
        assert f"k8s/{variant}: " in proc.stderr and "FAILED" not in proc.stderr
    assert "deploy/images: ok" in proc.stderr


def test_agent_configs_are_accepted_by_the_real_agent():
    build = os.path.dirname(os.path.dirname(binary("agent/slio-agent")))
    proc = run_check("--build", build)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def render(variant):
    sys.path.insert(0, str(REPO / "deploy"))
    from checker import kustomize
    return kustomize.render(str(REPO / "deploy" / "k8s" / variant))


@pytest.mark.parametrize("variant,controllers,etcd", [("sqlite-file", 1, False), ("sqlite-lvm", 1, False),
                                                      ("etcd-ha-lvm", 2, True)])
def test_variant_contents(variant, controllers, etcd):
    objs = {(o["kind"], o["metadata"]["name"]): o for o in render(variant)}
    assert objs[("Deployment", "slio-controller")]["spec"]["replicas"] == controllers
    assert (("StatefulSet", "etcd") in objs) == etcd
    assert (("PersistentVolumeClaim", "slio-controller-db") in objs) == (not etcd)
    ctl = yaml.safe_load(objs[("ConfigMap", "slio-controller-config")]["data"]["controller.yaml"])
    assert ctl["store"]["backend"] == ("etcd" if etcd else "sqlite")
    agent = yaml.safe_load(objs[("ConfigMap", "slio-agent-config")]["data"]["agent.yaml"])
    assert agent["pool"]["engine"] == ("file" if variant.endswith("file") else "lvm")
    assert {n for k, n in objs if k == "StorageClass"} == {
        "slio-local", "slio-remote", "slio-prefer-local", "slio-thin", "slio-spread",
        "slio-remote-auth"}
    images = {c["image"] for o in objs.values() if o["kind"] in ("Deployment", "DaemonSet")
              for c in o["spec"]["template"]["spec"]["containers"]}
    assert "sliteio/controller:0.1.0" in images and "sliteio/csi:0.1.0" in images
    assert all(not i.endswith(":latest") and ":" in i for i in images)


def test_broken_variant_is_refused_naming_each_fault():
    proc = run_check(BROKEN)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    for fault in ["spec.replicas: expected int, got str '2'",
                  "imagePullPolicyy: unknown field",
                  "parameter 'replicas' is not one docs/csi.md defines",
                  "parameter position='local': not one of",
                  "Service/slio-controller: selector {'app.kubernetes.io/name': 'slio-controller'} selects no pod",
                  "Deployment/slio-controller: selector app.kubernetes.io/name=slio-controller does not match",
                  "image 'sliteio/controller:latest' is not pinned",
                  "container 'controller': no livenessProbe",
                  "volumeMount 'registration' names no volume",
                  "container 'node-driver-registrar': no cpu and memory requests"]:
        assert fault in out, f"{fault!r} not reported:\n{out}"


def test_unsupported_kustomize_field_is_refused(tmp_path):
    (tmp_path / "kustomization.yaml").write_text(
        f"bases: [{REPO / 'deploy/k8s/sqlite-file'}]\npatches: [{{path: x.yaml}}]\n")
    proc = run_check(tmp_path)
    assert proc.returncode == 1
    assert "fields not supported by deploy/check's renderer: ['patches']" in proc.stdout


def test_bad_agent_config_is_refused_by_the_real_agent(tmp_path):
    build = os.path.dirname(os.path.dirname(binary("agent/slio-agent")))
    (tmp_path / "kustomization.yaml").write_text(
        f"bases: [{REPO / 'deploy/k8s/store-sqlite'}]\n"
        "configMapGenerator:\n  - {name: slio-agent-config, namespace: sliteio, files: [agent.yaml]}\n"
        "generatorOptions: {disableNameSuffixHash: true}\n")
    text = (REPO / "deploy/k8s/sqlite-file/agent.yaml").read_text().replace("trsvcid: 4420", "trsvcid: 99999")
    (tmp_path / "agent.yaml").write_text(text)
    proc = run_check("--build", build, tmp_path)
    assert proc.returncode == 1
    assert "slio-agent --check-config refused it" in proc.stdout and "trsvcid" in proc.stdout


def start_controller_with(tmp_path, text, etcd_endpoints=None):
    """The real slio-controller on a configuration taken from a shipped file,
    with only its paths, port and etcd endpoints moved to this test's."""
    from controller_proc import Controller
    ctl = Controller(tmp_path)
    config = yaml.safe_load(text.replace("@POD_IP@:8360", f"127.0.0.1:{ctl.port}"))
    config["listen"] = ctl.config["listen"]
    if etcd_endpoints:
        assert config["advertise_url"] == ctl.url
        config["store"]["etcd"]["endpoints"] = etcd_endpoints
    else:
        config["store"]["path"] = ctl.config["store"]["path"]
    config["tokens"] = ctl.config["tokens"]
    ctl.cfgpath.write_text(json.dumps(config))
    ctl.start()
    try:
        status, body = ctl.call("GET", "/v1/health", token=None)
        assert status == 200, body
        status, _ = ctl.call("GET", "/v1/nodes", token="admin")
        assert status == 200
    finally:
        ctl.stop()


def test_sqlite_controller_config_is_accepted_by_the_real_controller(tmp_path):
    cm = next(o for o in render("sqlite-file") if o["metadata"]["name"] == "slio-controller-config")
    assert set(yaml.safe_load(cm["data"]["controller.yaml"])) >= {"listen", "store", "tokens"}
    start_controller_with(tmp_path, cm["data"]["controller.yaml"])


def test_etcd_controller_config_leads_on_a_real_etcd(tmp_path):
    from test_controller_ha import EtcdCluster
    cm = next(o for o in render("etcd-ha-lvm") if o["metadata"]["name"] == "slio-controller-config")
    cluster = EtcdCluster(tmp_path).start()
    try:
        (tmp_path / "ctl").mkdir()
        start_controller_with(tmp_path / "ctl", cm["data"]["controller.yaml"], cluster.endpoints)
    finally:
        cluster.stop()
