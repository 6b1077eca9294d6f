# SPDX-License-Identifier: Apache-2.0
"""slioctl against a real slio-controller (SQLite, token files) with simulated
agents (controller_proc.Agent) making volumes ready: every command, its output
formats (-o json parsed, -o yaml parsed, table columns), exit codes, auth
errors, pagination, config sources, top from fake agents' /metrics, and the
kubectl-sliteio name (through the real kubectl plugin mechanism)."""
import http.server
import json
import os
import re
import subprocess
import threading
import time

import pytest
import yaml

from conftest import BUILD, binary, free_port
from controller_proc import TOKENS, GiB, Agent, Controller

EXIT_OK, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_UNAVAILABLE, EXIT_UNSCHEDULABLE = range(6)


class Cli:
    def __init__(self, ctl, tmp_path):
        self.ctl = ctl
        self.home = tmp_path / "home"
        self.home.mkdir(exist_ok=True)
        self.exe = binary("cli/slioctl")

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLIOCTL_")}
        env["HOME"] = str(self.home)
        env.pop("XDG_CONFIG_HOME", None)
        env.update(extra or {})
        return env

    def run(self, *args, token="admin", server=True, env=None, exe=None, want=EXIT_OK):
        argv = [exe or self.exe]
        if server:
            argv += ["--server", self.ctl.url]
        if token:
            argv += ["--token-file", str(self.ctl.dir / f"{token}.token")]
        argv += list(args)
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env(env), timeout=60)
        if want is not None:
            assert p.returncode == want, f"{argv}: rc {p.returncode}\n{p.stdout}\n{p.stderr}"
        return p

    def json(self, *args, **kw):
        return json.loads(self.run(*args, "-o", "json", **kw).stdout)

    def table(self, *args, **kw):
        lines = self.run(*args, **kw).stdout.splitlines()
        header = lines[0].split()
        return header, [dict(zip(header, line.split(None, len(header) - 1))) for line in lines[1:]]


@pytest.fixture
def env(tmp_path):
    ctl = Controller(tmp_path).start()
    agents = [Agent(ctl, "n1", rack="r1"), Agent(ctl, "n2", rack="r2")]
    for a in agents:
        a.register()
    yield Cli(ctl, tmp_path), ctl, agents
    ctl.stop()


def reconcile(agents):
    for a in agents:
        a.reconcile()


# ---- help, usage, completion ---------------------------------------------------------------

COMMANDS = [["get"], ["describe"], ["create", "volume"], ["delete", "volume"], ["expand", "volume"],
            ["attach", "volume"], ["detach", "volume"], ["set", "qos", "volume"], ["health"],
            ["snapshot", "create"], ["snapshot", "delete"], ["cordon", "pool"],
            ["uncordon", "pool"], ["drain", "pool"], ["top"], ["completion"],
            ["set", "dhchap"], ["show", "dhchap"], ["delete", "dhchap"]]


def test_help_for_every_command(env):
    cli, _, _ = env
    top = cli.run("--help", server=False, token=None).stdout
    for words in COMMANDS:
        assert "slioctl " + " ".join(words) in top
        out = cli.run(*words, "--help", server=False, token=None).stdout
        assert out.startswith(f"Usage: slioctl {' '.join(words)}"), out
        assert "--server" in out
    assert "Exit codes" in top


def test_usage_errors_exit_1(env):
    cli, _, _ = env
    cases = [[], ["frobnicate"], ["get"], ["get", "volumes", "--size", "1Gi"],
             ["get", "widgets"], ["get", "volumes", "-o", "xml"], ["get", "pools,volumes", "x"],
             ["create", "volume", "v"], ["create", "volume", "v", "--size", "ten"],
             ["get", "volumes", "--limit", "0"], ["cordon", "pool", "n1"],
             ["get", "nodes", "--node", "n1"], ["describe", "widget", "x"],
             ["top", "disks"], ["completion", "tcsh"], ["get", "volumes", "--bogus"]]
    for args in cases:
        p = cli.run(*args, want=EXIT_USAGE)
        assert "error:" in p.stderr, (args, p.stderr)
        assert p.stdout == "", (args, p.stdout)


def test_completion_bash_is_valid(env, tmp_path):
    cli, _, _ = env
    script = cli.run("completion", "bash", server=False, token=None).stdout
    path = tmp_path / "c.bash"
    path.write_text(script)
    subprocess.run(["bash", "-n", str(path)], check=True)
    # complete "slioctl get vo" with the real function
    out = subprocess.run(["bash", "-c", f"source {path}; COMP_WORDS=(slioctl get vo); COMP_CWORD=2;"
                          " _slioctl; echo ${COMPREPLY[@]}"], capture_output=True, text=True)
    assert out.stdout.split() == ["volumes"], out


# ---- the volume lifecycle, every command ---------------------------------------------------

def test_volume_lifecycle_all_formats(env):
    cli, ctl, agents = env
    v = cli.json("create", "volume", "v1", "--size", "1Gi", "--consumer-node", "n1",
                 "--position", "must_local", "--qos-iops", "500")
    assert v["name"] == "v1" and v["size"] == GiB and v["phase"] == "creating"
    assert v["node"] == "n1" and v["qos"]["rw_ios_per_sec"] == 500
    reconcile(agents)

    header, rows = cli.table("get", "volumes")
    assert header == ["NAME", "SIZE", "PHASE", "POOL", "POSITION", "AGE"]
    assert rows[0]["NAME"] == "v1" and rows[0]["SIZE"] == "1Gi" and rows[0]["PHASE"] == "ready"
    assert rows[0]["POOL"] == "n1/vg0" and rows[0]["POSITION"] == "must_local"
    header, rows = cli.table("get", "volumes", "-o", "wide")
    assert header[:6] == ["NAME", "SIZE", "PHASE", "POOL", "POSITION", "AGE"]
    assert header[6:] == ["ID", "THIN", "CONSUMER", "ATTACHMENTS", "DEGRADED", "MESSAGE"]
    assert rows[0]["ID"] == v["id"] and rows[0]["CONSUMER"] == "n1"

    one = yaml.safe_load(cli.run("get", "volume", "v1", "-o", "yaml").stdout)
    assert one["id"] == v["id"] and one["phase"] == "ready" and one["size"] == GiB
    assert cli.json("get", "volumes", v["id"])["name"] == "v1"

    # a second create with the same parameters is the same volume; other parameters: conflict
    p = cli.run("create", "volume", "v1", "--size", "1Gi", "--consumer-node", "n1",
                "--position", "must_local", "--qos-iops", "500")
    assert f'volume "v1" created (id {v["id"]}' in p.stdout
    p = cli.run("create", "volume", "v1", "--size", "2Gi", want=EXIT_CONFLICT)
    assert 'create volume "v1"' in p.stderr and "conflict" in p.stderr

    e = cli.json("expand", "volume", "v1", "--size", "2Gi")
    assert e["phase"] == "expanding"
    reconcile(agents)
    assert cli.json("get", "volume", "v1")["size"] == 2 * GiB

    s = cli.json("snapshot", "create", "s1", "--volume", "v1")
    assert s["volume"] == v["id"]
    reconcile(agents)
    header, rows = cli.table("get", "snapshots")
    assert header == ["NAME", "VOLUME", "SIZE", "PHASE", "READY", "POOL", "AGE"]
    assert rows[0]["NAME"] == "s1" and rows[0]["PHASE"] == "ready" and rows[0]["READY"] == "true"

    p = cli.run("delete", "volume", "v1", want=EXIT_CONFLICT)
    assert 'delete volume "v1"' in p.stderr and "snapshot" in p.stderr

    clone = cli.json("create", "volume", "c1", "--size", "2Gi", "--from-snapshot", "s1")
    assert clone["source"]["snapshot"] == s["id"] and clone["node"] == "n1"
    reconcile(agents)
    assert cli.run("delete", "volume", "c1").returncode == 0

    assert "deleting" in cli.run("snapshot", "delete", "s1").stdout
    reconcile(agents)
    assert cli.run("delete", "volume", v["id"]).stdout.startswith('volume "v1" deleting')
    reconcile(agents)
    p = cli.run("get", "volume", "v1", want=EXIT_NOT_FOUND)
    assert 'volume "v1": not found' in p.stderr
    assert cli.run("get", "volumes", want=EXIT_OK).stderr.strip() == "No resources found."


def test_describe_with_events(env):
    cli, ctl, agents = env
    v = cli.json("create", "volume", "d1", "--size", "1Gi", "--consumer-node", "n2",
                 "--position", "must_local")
    reconcile(agents)
    out = cli.run("describe", "volume", "d1").stdout
    assert "Name             d1\n" in out and f"ID               {v['id']}\n" in out
    assert "Phase            ready\n" in out and "Pool             n2/vg0\n" in out
    assert "Attachments: <none>" in out
    events = out.split("Events:\n", 1)[1].splitlines()
    assert events[0].split() == ["AGE", "TYPE", "KIND", "OBJECT", "REASON", "MESSAGE"]
    assert len(events) >= 2 and all(v["id"] in line for line in events[1:])
    doc = cli.json("describe", "volume", v["id"])
    assert doc["object"]["id"] == v["id"] and doc["events"]
    assert {e["object"] for e in doc["events"]} == {v["id"]}

    out = cli.run("describe", "node", "n1").stdout
    assert "Name             n1\n" in out and "Rack             r1\n" in out
    pools = out.split("Pools:\n", 1)[1].split("Events:")[0].splitlines()
    assert pools[0].split()[:3] == ["NODE", "NAME", "STATUS"] and pools[1].split()[:2] == ["n1", "vg0"]
    out = cli.run("describe", "pool", "n2/vg0").stdout
    assert "Node             n2\n" in out and "Capacity         100Gi\n" in out
    p = cli.run("describe", "volume", "nope", want=EXIT_NOT_FOUND)
    assert 'volume "nope"' in p.stderr
    p = cli.run("describe", "node", "n9", want=EXIT_NOT_FOUND)
    assert 'node "n9"' in p.stderr and "not_found" in p.stderr


def test_get_nodes_pools_events_and_comma_lists(env):
    cli, ctl, agents = env
    header, rows = cli.table("get", "nodes")
    assert header == ["NAME", "STATUS", "POOLS", "RACK", "ZONE", "HEARTBEAT"]
    assert [r["NAME"] for r in rows] == ["n1", "n2"] and rows[0]["POOLS"] == "1"
    # the agents were heard from (registration) just now: an age in seconds, not <unknown>
    assert all(re.fullmatch(r"\d+s", r["HEARTBEAT"]) and int(r["HEARTBEAT"][:-1]) < 60
               for r in rows), rows
    header, rows = cli.table("get", "nodes", "-o", "wide")
    assert header[6:] == ["ADDRESS", "AGENT", "HOST-NQN"] and rows[0]["ADDRESS"] == "127.0.0.9:4420"
    assert cli.json("get", "node", "n2")["name"] == "n2"
    # last_heartbeat is the controller's wall clock at the latest register/heartbeat
    before = cli.json("get", "node", "n2")["last_heartbeat"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", before)
    time.sleep(0.01)
    agents[1].heartbeat()
    after = cli.json("get", "node", "n2")["last_heartbeat"]
    assert after > before and cli.json("get", "node", "n1")["last_heartbeat"] < after

    header, rows = cli.table("get", "pools")
    assert header == ["NODE", "NAME", "STATUS", "ENGINE", "THIN", "CAPACITY", "FREE", "RESERVED",
                      "VOLUMES", "CORDONED"]
    assert rows[0]["CAPACITY"] == "100Gi" and rows[0]["CORDONED"] == "false"
    only = cli.json("get", "pools", "--node", "n2")["items"]
    assert [(p["node"], p["name"]) for p in only] == [("n2", "vg0")]
    assert cli.json("get", "pool", "n1/vg0")["node"] == "n1"

    cli.run("create", "volume", "g1", "--size", "1Gi")
    both = cli.json("get", "pools,volumes")
    assert set(both) == {"pools", "volumes"} and len(both["pools"]) == 2
    assert [v["name"] for v in both["volumes"]] == ["g1"]
    tables = cli.run("get", "pools,volumes").stdout.split("\n\n")
    assert tables[0].startswith("NODE ") and tables[1].startswith("NAME ")
    y = yaml.safe_load(cli.run("get", "pools,volumes", "-o", "yaml").stdout)
    assert y == both

    header, rows = cli.table("get", "events")
    assert header == ["AGE", "TYPE", "KIND", "OBJECT", "REASON", "MESSAGE"]
    assert any(r["OBJECT"] == "n1" for r in rows)
    assert all(e["object"] == "n1" for e in cli.json("get", "events", "n1")["items"])


def test_pagination_followed(env):
    cli, ctl, agents = env
    for i in range(7):
        cli.run("create", "volume", f"p{i}", "--size", "1Gi")
    names = [v["name"] for v in cli.json("get", "volumes", "--chunk-size", "2")["items"]]
    assert names == [f"p{i}" for i in range(7)]
    assert len(cli.json("get", "volumes", "--chunk-size", "2", "--limit", "3")["items"]) == 3
    assert len(cli.json("get", "volumes", "--limit", "3", "--all", "--chunk-size", "2")["items"]) == 7
    _, rows = cli.table("get", "volumes", "--chunk-size", "1")
    assert len(rows) == 7


def test_cordon_uncordon_drain(env):
    cli, ctl, agents = env
    v = cli.json("create", "volume", "dr1", "--size", "1Gi", "--consumer-node", "n1",
                 "--position", "must_local")
    reconcile(agents)
    assert cli.run("cordon", "pool", "n1/vg0").stdout == 'pool "n1/vg0" cordoned\n'
    assert cli.json("get", "pool", "n1/vg0")["cordoned"] is True
    p = cli.run("create", "volume", "dr2", "--size", "1Gi", "--consumer-node", "n1",
                "--position", "must_local", want=EXIT_UNSCHEDULABLE)
    assert 'create volume "dr2"' in p.stderr and "unschedulable" in p.stderr
    out = cli.run("drain", "pool", "n1/vg0").stdout.splitlines()
    assert out[0] == 'pool "n1/vg0" cordoned; 1 volume(s) to move:'
    assert out[1].split() == ["VOLUME", "ID", "ATTACHED-TO", "TARGET", "REASON"]
    assert out[2].split()[:4] == ["dr1", v["id"], "<none>", "<none>"] and "MustLocal" in out[2]
    plan = cli.json("drain", "pool", "n1/vg0")
    assert plan["moves"][0]["volume"] == v["id"]
    assert cli.run("uncordon", "pool", "n1/vg0").stdout == 'pool "n1/vg0" uncordoned\n'
    assert cli.json("get", "pool", "n1/vg0")["cordoned"] is False
    p = cli.run("cordon", "pool", "n1/nope", want=EXIT_NOT_FOUND)
    assert 'cordon pool "n1/nope"' in p.stderr


def test_unschedulable_exit_5(env):
    cli, _, _ = env
    p = cli.run("create", "volume", "huge", "--size", "10Ti", want=EXIT_UNSCHEDULABLE)
    assert 'create volume "huge"' in p.stderr and "unschedulable" in p.stderr


# ---- auth, availability, config sources ----------------------------------------------------

def test_auth_errors_exit_4(env, tmp_path):
    cli, ctl, _ = env
    p = cli.run("get", "volumes", token=None, want=EXIT_UNAVAILABLE)
    assert "unauthenticated" in p.stderr
    bad = tmp_path / "bad.token"
    bad.write_text("not-a-known-token\n")
    p = cli.run("get", "volumes", "--token-file", str(bad), token=None, want=EXIT_UNAVAILABLE)
    assert "unauthenticated" in p.stderr
    assert cli.run("get", "volumes", token="readonly").returncode == 0
    p = cli.run("create", "volume", "ro", "--size", "1Gi", token="readonly", want=EXIT_UNAVAILABLE)
    assert "forbidden" in p.stderr
    p = cli.run("get", "volumes", "--token-file", str(tmp_path / "missing"), token=None,
                want=EXIT_UNAVAILABLE)
    assert "missing" in p.stderr


def test_unreachable_controller_exit_4(env):
    cli, _, _ = env
    dead = f"http://127.0.0.1:{free_port()}"
    p = cli.run("get", "volumes", "--server", dead, server=False, want=EXIT_UNAVAILABLE)
    assert dead in p.stderr


def test_config_sources_and_precedence(env, tmp_path):
    cli, ctl, _ = env
    dead = f"http://127.0.0.1:{free_port()}"
    tok = str(ctl.dir / "admin.token")
    # environment only
    p = cli.run("get", "nodes", server=False, token=None,
                env={"SLIOCTL_SERVER": ctl.url, "SLIOCTL_TOKEN_FILE": tok})
    assert "n1" in p.stdout
    # the flag beats the environment
    cli.run("get", "nodes", "--server", dead, server=False, token=None,
            env={"SLIOCTL_SERVER": ctl.url, "SLIOCTL_TOKEN_FILE": tok}, want=EXIT_UNAVAILABLE)
    # the default config file, with a server list whose first URL is down (next one is used)
    cfg = cli.home / ".config" / "slioctl"
    cfg.mkdir(parents=True)
    (cfg / "config.yaml").write_text(f"server:\n  - {dead}\n  - {ctl.url}\ntoken_file: {tok}\n")
    assert "n2" in cli.run("get", "nodes", server=False, token=None).stdout
    # the environment beats the config file
    cli.run("get", "nodes", server=False, token=None, env={"SLIOCTL_SERVER": dead},
            want=EXIT_UNAVAILABLE)
    # --config names another file; a bad one is a usage error naming it
    other = tmp_path / "other.yaml"
    other.write_text("server: [1, 2]\n")
    p = cli.run("get", "nodes", "--config", str(other), server=False, token=None, want=EXIT_USAGE)
    assert str(other) in p.stderr and "server" in p.stderr
    p = cli.run("get", "nodes", "--config", str(tmp_path / "nope.yaml"), server=False, token=None,
                want=None)
    assert p.returncode != 0 and "nope.yaml" in p.stderr


# ---- top -------------------------------------------------------------------------------------

class FakeMetrics:
    """An agent's /metrics whose counters grow at fixed rates (per second)."""

    def __init__(self, volumes):
        self.volumes = volumes  # id -> (read_iops, write_iops, read_Bps, write_Bps)
        self.t0 = time.monotonic()
        self.auth = []  # the Authorization header of each scrape (None: none sent)
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                t = time.monotonic() - fake.t0
                fake.auth.append(self.headers.get("Authorization"))
                lines = ["# TYPE sliteio_volume_read_ops_total counter", "junk line {",
                         'sliteio_volume_read_ops_total{volume="not-a-uuid"} 5']
                for vid, (ri, wi, rb, wb) in fake.volumes.items():
                    lab = f'{{volume="{vid}",via="target"}}'
                    lines += [f"sliteio_volume_read_ops_total{lab} {ri * t}",
                              f"sliteio_volume_write_ops_total{lab} {wi * t}",
                              f"sliteio_volume_read_bytes_total{lab} {rb * t}",
                              f"sliteio_volume_write_bytes_total{lab} {wb * t}",
                              f"sliteio_volume_read_time_seconds_total{lab} {ri * t * 0.002}",
                              f"sliteio_volume_write_time_seconds_total{lab} {wi * t * 0.004}"]
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200 if self.path == "/metrics" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def test_top_volumes_and_pools(env):
    cli, ctl, agents = env
    a = cli.json("create", "volume", "t1", "--size", "1Gi", "--consumer-node", "n1",
                 "--position", "must_local")
    b = cli.json("create", "volume", "t2", "--size", "1Gi", "--consumer-node", "n1",
                 "--position", "must_local")
    fake = FakeMetrics({a["id"]: (1000, 200, 4e6, 1e6), b["id"]: (100, 0, 0, 2e6)})
    try:
        ctl.ok("POST", "/v1/agent/register", {
            "node": "n1", "host_nqn": agents[0].host_nqn, "topology": {"rack": "r1"},
            "export_address": {"traddr": "127.0.0.9", "trsvcid": "4420"},
            "agent_url": fake.url, "version": "test", "pools": agents[0].pools}, token="agent")
        rows = {r["name"]: r for r in cli.json("top", "volumes", "--interval", "500ms")["items"]}
        assert set(rows) == {"t1", "t2"}
        t1 = rows["t1"]
        assert float(t1["read_iops"]) == pytest.approx(1000, rel=0.1)
        assert float(t1["write_iops"]) == pytest.approx(200, rel=0.1)
        assert float(t1["read_mbps"]) == pytest.approx(4.0, rel=0.1)
        assert float(t1["read_lat_ms"]) == pytest.approx(2.0, rel=0.05)
        assert float(t1["write_lat_ms"]) == pytest.approx(4.0, rel=0.05)
        assert float(rows["t2"]["write_mbps"]) == pytest.approx(2.0, rel=0.1)
        header, trows = cli.table("top", "volumes", "--interval", "200ms")
        assert header == ["NAME", "POOL", "READ-IOPS", "WRITE-IOPS", "READ-MB/S", "WRITE-MB/S",
                          "READ-LAT-MS", "WRITE-LAT-MS"]
        assert {r["NAME"] for r in trows} == {"t1", "t2"}
        pools = cli.json("top", "pools", "--interval", "500ms")["items"]
        assert len(pools) == 1 and pools[0]["node"] == "n1" and pools[0]["volumes"] == 2
        assert float(pools[0]["read_iops"]) == pytest.approx(1100, rel=0.1)
        # n2's agent URL does not answer: a warning naming it, n1's figures still printed
        assert "node \"n2\"" in cli.run("top", "volumes", "--interval", "100ms").stderr
        # the controller (admin) token never goes to the agents' URLs
        assert fake.auth and set(fake.auth) == {None}, fake.auth
        # the metrics token does, from the flag or the environment
        fake.auth.clear()
        cli.run("top", "volumes", "--interval", "100ms",
                "--metrics-token-file", str(ctl.dir / "readonly.token"))
        cli.run("top", "pools", "--interval", "100ms",
                env={"SLIOCTL_METRICS_TOKEN_FILE": str(ctl.dir / "readonly.token")})
        assert fake.auth == [f"Bearer {TOKENS['readonly']}"] * 4, fake.auth
    finally:
        fake.close()


def test_top_without_any_agent_exit_4(env):
    cli, _, _ = env
    p = cli.run("top", "pools", "--interval", "100ms", want=EXIT_UNAVAILABLE)
    assert "no agent" in p.stderr


# ---- kubectl plugin --------------------------------------------------------------------------

def test_kubectl_sliteio_name(env, tmp_path):
    cli, ctl, agents = env
    cli.run("create", "volume", "k1", "--size", "1Gi")
    plugin = binary("cli/kubectl-sliteio")
    assert os.path.realpath(plugin) == os.path.realpath(cli.exe)
    p = cli.run("get", "volumes", exe=plugin)
    assert p.stdout.splitlines()[1].startswith("k1 ")
    help_text = cli.run("--help", exe=plugin, server=False, token=None).stdout
    assert "kubectl sliteio get" in help_text
    p = cli.run("get", "volume", "nope", exe=plugin, want=EXIT_NOT_FOUND)
    assert p.stderr.startswith("kubectl sliteio: error:")
    # kubectl itself finds the plugin on PATH (no cluster needed for plugins)
    env = {"PATH": f"{BUILD / 'cli'}:{os.environ['PATH']}", "KUBECONFIG": str(tmp_path / "none")}
    argv = ["kubectl", "sliteio", "--server", ctl.url, "--token-file",
            str(ctl.dir / "admin.token"), "get", "volumes", "-o", "json"]
    k = subprocess.run(argv, capture_output=True, text=True, env=cli.env(env), timeout=60)
    assert k.returncode == 0, k.stderr
    assert [v["name"] for v in json.loads(k.stdout)["items"]] == ["k1"]


# ---- attach / detach, qos, health, orphans ---------------------------------------------------

def test_attach_detach_prints_nvme_connect(env):
    cli, ctl, agents = env
    v = cli.json("create", "volume", "a1", "--size", "1Gi", "--consumer-node", "n1",
                 "--position", "must_local")
    reconcile(agents)
    out = cli.run("attach", "volume", "a1", "--node", "n1").stdout.splitlines()
    assert out == ['volume "a1" attached to node "n1" (local, phase ready)',
                   f"device: /dev/vg0/{v['id']}"]
    p = cli.run("attach", "volume", "a1", "--node", "n2", want=EXIT_CONFLICT)
    assert 'attach volume "a1"' in p.stderr
    assert "detaching" in cli.run("detach", "volume", "a1", "--node", "n1").stdout
    reconcile(agents)
    att = cli.json("attach", "volume", "a1", "--node", "n2")
    assert att["local"] is False and att["phase"] == "pending"
    reconcile(agents)  # n1's agent exports it to n2's host NQN
    out = cli.run("attach", "volume", "a1", "--node", "n2").stdout.splitlines()
    assert out[0] == 'volume "a1" attached to node "n2" (remote, phase ready)'
    assert out[1] == (f"nvme connect -t tcp -a 127.0.0.9 -s 4420 -n {att['nqn']} "
                      f"--hostnqn {agents[1].host_nqn}")
    desc = cli.run("describe", "volume", "a1").stdout
    rows = desc.split("Attachments:\n", 1)[1].split("Events:")[0].splitlines()
    assert rows[0].split() == ["NODE", "LOCAL", "PHASE", "ADDRESS", "DEVICE"]
    assert rows[1].split()[:4] == ["n2", "false", "ready", "127.0.0.9:4420"]
    cli.run("attach", "volume", "a1", want=EXIT_USAGE)


def test_set_qos(env):
    cli, ctl, agents = env
    cli.run("create", "volume", "q1", "--size", "1Gi", "--qos-iops", "100")
    v = cli.json("set", "qos", "volume", "q1", "--qos-iops", "300", "--qos-write-mbps", "50")
    assert v["qos"]["rw_ios_per_sec"] == 300 and v["qos"]["w_mbytes_per_sec"] == 50
    assert ctl.ok("GET", f"/v1/volumes/{v['id']}")["qos"]["rw_ios_per_sec"] == 300
    out = cli.run("set", "qos", "volume", "q1").stdout
    assert out.startswith('volume "q1" qos {') and '"rw_ios_per_sec":0' in out
    cli.run("set", "qos", "volume", "q1", "--qos-iops", "1", token="readonly",
            want=EXIT_UNAVAILABLE)


HOST_KEY = "DHHC-1:01:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWYOtVl3:"
CTRL_KEY = "DHHC-1:00:ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTCf/nwX:"


def test_dhchap_set_show_delete(env, tmp_path):
    """Secrets go from files to the controller, come back as key ids only; every refusal has
    its exit code and names the file, never its content."""
    cli, ctl, _ = env
    host, ctrl, bad = tmp_path / "host.key", tmp_path / "ctrl.key", tmp_path / "bad.key"
    host.write_text(HOST_KEY + "\n")
    ctrl.write_text(CTRL_KEY)
    bad.write_text(HOST_KEY.replace("OtVl3", "OtVl4"))  # CRC-32 no longer matches
    st = cli.json("set", "dhchap", "node-c", str(host))
    assert st["configured"] and not st["bidirectional"] and len(st["host_key_id"]) == 16
    hdr, rows = cli.table("set", "dhchap", "node-c", str(host), str(ctrl))
    assert hdr[:3] == ["NODE", "CONFIGURED", "BIDIRECTIONAL"] and rows[0]["BIDIRECTIONAL"] == "true"
    shown = cli.run("show", "dhchap", "node-c", "-o", "yaml").stdout
    assert "ctrl_key_id:" in shown and "MDEyMzQ1" not in shown and "ZmVkY2Jh" not in shown
    assert ctl.ok("GET", "/v1/nodes/node-c/dhchap")["ctrl_key_id"] == cli.json(
        "show", "dhchap", "node-c")["ctrl_key_id"]
    p = cli.run("set", "dhchap", "node-c", str(bad), want=EXIT_USAGE)
    assert str(bad) in p.stderr and "DHHC" not in p.stderr.replace("DHHC-1:<hh>", "")
    cli.run("set", "dhchap", "node-c", str(tmp_path / "missing.key"), want=EXIT_USAGE)
    cli.run("set", "dhchap", "node-c", str(host), token="csi", want=EXIT_UNAVAILABLE)
    assert cli.run("delete", "dhchap", "node-c").stdout.startswith('node "node-c": DH-HMAC-CHAP')
    assert cli.json("show", "dhchap", "node-c")["configured"] is False


def test_health(env):
    cli, ctl, _ = env
    out = cli.run("health", token=None).stdout
    assert out.startswith(f"{ctl.url}: status ok, role single, store sqlite")
    assert cli.json("health", token=None)["store"] == "sqlite"


def test_get_orphans(env):
    cli, ctl, agents = env
    orphan = {"pool": "vg0", "uuid": "0190a8f0-1111-7000-8000-000000000000", "kind": "volume",
              "device": "/dev/vg0/x", "size": GiB}
    agents[0].report(orphans=[orphan])
    header, rows = cli.table("get", "orphans")
    assert header == ["NODE", "POOL", "UUID", "KIND", "SIZE", "AGE"]
    assert rows[0]["NODE"] == "n1" and rows[0]["UUID"] == orphan["uuid"] and rows[0]["SIZE"] == "1Gi"
    assert cli.json("get", "orphans")["items"][0]["device"] == "/dev/vg0/x"
    cli.run("get", "orphans", "x", want=EXIT_USAGE)
