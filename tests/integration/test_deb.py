# SPDX-License-Identifier: Apache-2.0
"""make deb (packaging/build-debs): the five packages build from the build
directory, lintian reports no error and only the tags packaging/README
accepts, their contents, control data and conffiles are as designed, the
units pass systemd-analyze verify and the default configuration is accepted
by the packaged agent. Installing on a real Debian 12 with systemd as PID 1
is not possible here (docs/packaging.md)."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, REPO, binary

PACKAGES = ["slio-tgt", "slio-agent", "slio-controller", "slio-csi", "slioctl"]
VERSION = "0.1.0-1"
EXPECTED = {
    "slio-tgt": ["usr/bin/slio-tgt", "usr/bin/slio-tgt-rpc", "usr/bin/slio-perf",
                 "lib/systemd/system/slio-tgt.service", "usr/share/man/man8/slio-tgt.8.gz"],
    "slio-agent": ["usr/bin/slio-agent", "usr/bin/slio-engine-tool", "etc/sliteio/agent.yaml",
                   "lib/systemd/system/slio-agent.service"],
    "slio-controller": ["usr/bin/slio-controller", "etc/sliteio/controller.yaml",
                        "lib/systemd/system/slio-controller.service"],
    "slio-csi": ["usr/bin/slio-csi", "etc/default/slio-csi", "lib/systemd/system/slio-csi-node.service",
                 "lib/systemd/system/slio-csi-controller.service"],
    "slioctl": ["usr/bin/slioctl", "usr/bin/kubectl-sliteio", "usr/share/man/man1/slioctl.1.gz"],
}
CONFFILES = {"slio-agent": ["/etc/sliteio/agent.yaml"], "slio-controller": ["/etc/sliteio/controller.yaml"],
             "slio-csi": ["/etc/default/slio-csi"]}


def tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed (apt-get install {name}; see tools/deps.txt)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def debs(tmp_path_factory):
    for b in ("tgt/slio-tgt", "tgt/slio-tgt-rpc", "perf/slio-perf", "agent/slio-agent",
              "agent/engine/slio-engine-tool", "controller/slio-controller", "csi/slio-csi", "cli/slioctl"):
        binary(b)
    out = tmp_path_factory.mktemp("debs")
    proc = subprocess.run(["/usr/bin/python3", str(REPO / "packaging/build-debs"), str(BUILD), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    paths = {p.name.split("_")[0]: p for p in out.glob("*.deb")}
    assert sorted(paths) == sorted(PACKAGES)
    assert all(p.name.endswith(f"_{VERSION}_amd64.deb") for p in paths.values())
    return paths


def sanitized_build():
    """An ASan/UBSan build (make sanitize) is built without the hardening flags
    (meson.build: they clash with the sanitizers), and packages are never made
    from it; lintian then reports exactly that, which proves nothing about the
    packages `make deb` ships."""
    opts = json.loads(subprocess.run(["meson", "introspect", "--buildoptions", str(BUILD)],
                                     capture_output=True, text=True, check=True).stdout)
    return any(o["name"] == "b_sanitize" and o["value"] != "none" for o in opts)


def accepted_tags():
    text = (REPO / "packaging/README").read_text()
    tags = set(re.findall(r"^  ([a-z0-9.+-]+): ", text, re.M))
    if sanitized_build():
        tags |= {"hardening-no-bindnow", "hardening-no-fortify-functions", "hardening-no-relro"}
    return tags


def test_lintian_reports_no_error_and_only_accepted_tags(debs):
    proc = subprocess.run([tool("lintian"), "-I", "--tag-display-limit", "0", *map(str, debs.values())],
                          capture_output=True, text=True, timeout=600)
    tags = re.findall(r"^([EWIXPO]): ([a-z0-9-]+): ([a-z0-9.+-]+)", proc.stdout, re.M)
    assert not [t for t in tags if t[0] == "E"], proc.stdout
    unexpected = [t for t in tags if t[2] not in accepted_tags()]
    assert not unexpected, f"lintian tags not accepted in packaging/README: {unexpected}\n{proc.stdout}"


def deb_field(deb, field):
    return subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.parametrize("pkg", PACKAGES)
def test_contents_control_and_conffiles(debs, pkg):
    listing = subprocess.run(["dpkg-deb", "-c", str(debs[pkg])], capture_output=True, text=True,
                             check=True).stdout
    files = {line.split()[5].lstrip("./") for line in listing.splitlines()}
    for path in EXPECTED[pkg] + [f"usr/share/doc/{pkg}/copyright", f"usr/share/doc/{pkg}/changelog.Debian.gz"]:
        assert path in files, f"{pkg}: {path} missing:\n{listing}"
    assert all(" root/root " in line for line in listing.splitlines())
    assert deb_field(debs[pkg], "Version") == VERSION
    assert "libc6" in deb_field(debs[pkg], "Depends")
    control = subprocess.run(["dpkg-deb", "-I", str(debs[pkg]), "conffiles"], capture_output=True, text=True)
    assert control.stdout.split() == CONFFILES.get(pkg, [])


def test_package_relations(debs):
    assert f"slio-tgt (= {VERSION})" in deb_field(debs["slio-agent"], "Depends")
    assert "lvm2" in deb_field(debs["slio-agent"], "Depends")
    assert "nvme-cli" in deb_field(debs["slio-csi"], "Depends")
    assert "adduser" in deb_field(debs["slio-controller"], "Depends")


@pytest.fixture(scope="module")
def root(debs, tmp_path_factory):
    """Every package unpacked into one tree, with the host's systemd units and
    /bin/mkdir beside them so systemd-analyze can resolve targets and commands."""
    root = tmp_path_factory.mktemp("root")
    for deb in debs.values():
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    units = root / "lib/systemd/system"
    for d in ("/lib/systemd/system", "/usr/lib/systemd/system"):
        subprocess.run(["cp", "-an", f"{d}/.", str(units)], check=False)
    (root / "bin").mkdir(exist_ok=True)
    shutil.copy("/bin/mkdir", root / "bin/mkdir")
    return root


def test_units_pass_systemd_analyze_verify(root):
    units = sorted(str(p) for p in (root / "lib/systemd/system").glob("slio-*.service"))
    assert len(units) == 5
    proc = subprocess.run([tool("systemd-analyze"), "verify", f"--root={root}", *units],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def test_units_are_hardened(root):
    units = root / "lib/systemd/system"
    ctl = (units / "slio-controller.service").read_text()
    assert "User=sliteio" in ctl and "CapabilityBoundingSet=\n" in ctl and "ProtectSystem=strict" in ctl
    for name in ("slio-tgt", "slio-agent"):
        text = (units / f"{name}.service").read_text()
        for key in ("CapabilityBoundingSet=CAP_", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                    "NoNewPrivileges=yes"):
            assert key in text, f"{name}: {key}"
    tgt = (units / "slio-tgt.service").read_text()
    assert "RuntimeDirectory=slio-tgt" in tgt and "RuntimeDirectoryMode=0700" in tgt
    # the file engine's volumes live in the agent's pool directory
    assert "ReadWritePaths=-/var/lib/sliteio" in tgt
    assert "ReadWritePaths=/var/lib/sliteio " in (units / "slio-agent.service").read_text()


def test_default_configuration_is_accepted_by_the_packaged_agent(root):
    proc = subprocess.run([str(root / "usr/bin/slio-agent"), "-c", str(root / "etc/sliteio/agent.yaml"),
                           "--check-config"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    # every daemon and client prints "NAME VERSION" (meson's project version) and exits 0
    for name in ("slio-tgt", "slio-tgt-rpc", "slio-agent", "slio-controller", "slio-csi", "slioctl"):
        version = subprocess.run([str(root / "usr/bin" / name), "--version"], capture_output=True,
                                 text=True, timeout=30)
        assert version.returncode == 0 and version.stdout == f"{name} 0.1.0\n", (name, version)


def test_maintainer_scripts_are_valid_sh(debs, tmp_path):
    for pkg in ("slio-tgt", "slio-agent", "slio-controller", "slio-csi"):
        ctl = tmp_path / pkg
        subprocess.run(["dpkg-deb", "-e", str(debs[pkg]), str(ctl)], check=True)
        for script in ("postinst", "prerm", "postrm"):
            text = (ctl / script).read_text()
            assert "@SYSTEMD_" not in text
            assert subprocess.run(["sh", "-n", str(ctl / script)]).returncode == 0
    postinst = (tmp_path / "slio-controller/postinst").read_text()
    assert "adduser --system --group" in postinst and "deb-systemd-helper enable 'slio-controller.service'" in postinst
    csi = (tmp_path / "slio-csi/postinst").read_text()
    # the CSI units need Kubernetes: installed disabled, not started
    assert "deb-systemd-helper update-state 'slio-csi-node.service'" in csi
    assert "deb-systemd-invoke $_dh_action 'slio-csi" not in csi


def test_default_controller_configuration_serves(root, tmp_path):
    from test_deploy import start_controller_with
    start_controller_with(tmp_path, (root / "etc/sliteio/controller.yaml").read_text())
