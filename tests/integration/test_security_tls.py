# SPDX-License-Identifier: Apache-2.0
"""TLS on the control plane, with certificates this test makes (openssl CLI):
slio-controller and slio-agent serve HTTPS on 127.0.0.1; clients that trust the
CA get through (Python, slioctl --ca-file / SLIOCTL_CA_FILE, the agent's
controller.ca_file), plain HTTP to the TLS port gets no HTTP answer, a client
trusting another CA is refused, and a certificate replaced on disk is what the
next connection sees, without a restart (a broken replacement keeps the old
pair serving and is counted)."""
import hashlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from agent_helpers import Agent as FileAgent
from conftest import binary
from controller_proc import TOKENS, Controller
from controller_proc import Agent as PlayedNode


# ---- a throw-away PKI ----------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class Pki:
    """A CA in dir/<ca>.pem and server pairs it signs, for an IP address SAN."""

    def __init__(self, dir, name="ca"):
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.ca = self.dir / f"{name}.pem"
        self.ca_key = self.dir / f"{name}.key"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(self.ca_key), "-out", str(self.ca), "-days", "2",
                "-subj", f"/CN=sliteio test {name}", cwd=self.dir)

    def server(self, stem, ip="127.0.0.1"):
        """(cert, key) for ip, signed by this CA."""
        key, csr, crt = (self.dir / f"{stem}.{ext}" for ext in ("key", "csr", "pem"))
        ext = self.dir / f"{stem}.ext"
        ext.write_text(f"subjectAltName=IP:{ip}\nextendedKeyUsage=serverAuth\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={stem}", cwd=self.dir)
        openssl("x509", "-req", "-in", str(csr), "-CA", str(self.ca), "-CAkey", str(self.ca_key),
                "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext),
                cwd=self.dir)
        return crt, key


def der_fingerprint(pem_path):
    der = ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())
    return hashlib.sha256(der).hexdigest()


def served_fingerprint(host, port):
    """SHA-256 of the certificate a new connection is given (not verified: we compare)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=5) as s:
        with ctx.wrap_socket(s) as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def replace_file(path, src):
    """Replace path's content atomically (write aside, rename), as a cert manager does."""
    tmp = Path(str(path) + ".new")
    tmp.write_bytes(Path(src).read_bytes())
    os.replace(tmp, path)


def plain_http_gets_no_answer(host, port):
    """Plain HTTP to a TLS port: no HTTP status line comes back."""
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", "/v1/health")
        resp = conn.getresponse()
        status = resp.status
    except (http.client.HTTPException, ConnectionError, socket.timeout):
        return True
    finally:
        conn.close()
    pytest.fail(f"plain HTTP to the TLS port answered HTTP {status}")


# ---- a controller on HTTPS -----------------------------------------------------------------

class TlsController(Controller):
    """controller_proc.Controller over HTTPS, trusting ca (a path) for its own calls."""

    def __init__(self, workdir, cert, key, ca, **config):
        super().__init__(workdir, **config)
        self.url = f"https://127.0.0.1:{self.port}"
        self.cert, self.key = Path(workdir) / "tls.pem", Path(workdir) / "tls.key"
        replace_file(self.cert, cert)
        replace_file(self.key, key)
        self.ctx = ssl.create_default_context(cafile=str(ca))
        self.config["listen"].update(tls_cert_file=str(self.cert), tls_key_file=str(self.key))
        self.cfgpath.write_text(json.dumps(self.config))

    def call(self, method, path, body=None, token="admin", timeout=30, raw=None, headers=None):
        hdrs = dict(headers or {})
        if token:
            hdrs["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ctx) as r:
                text, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            text, status = e.read(), e.code
        if not text:
            return status, None
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.decode()

    def metric(self, name):
        _, text = self.call("GET", "/metrics", token=None)
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return None


@pytest.fixture
def pki(tmp_path):
    return Pki(tmp_path / "pki")


@pytest.fixture
def tls_ctl(tmp_path, pki):
    cert, key = pki.server("controller")
    (tmp_path / "ctl").mkdir()
    c = TlsController(tmp_path / "ctl", cert, key, pki.ca)
    c.start()
    yield c
    c.stop()


def test_controller_https_verified_and_plain_http_refused(tls_ctl, pki):
    status, health = tls_ctl.call("GET", "/v1/health", token=None)
    assert status == 200, health
    vol = tls_ctl.ok("POST", "/v1/volumes", {"name": "tls-v1", "size": 1 << 30}, token="csi",
                     want=(201, 422))
    assert vol is not None
    plain_http_gets_no_answer("127.0.0.1", tls_ctl.port)
    # the controller still serves after the bad client
    assert tls_ctl.call("GET", "/v1/health", token=None)[0] == 200


def test_wrong_ca_refused(tls_ctl, tmp_path):
    other = Pki(tmp_path / "other", name="other-ca")
    ctx = ssl.create_default_context(cafile=str(other.ca))
    with pytest.raises(urllib.error.URLError) as e:
        urllib.request.urlopen(tls_ctl.url + "/v1/health", timeout=5, context=ctx)
    assert isinstance(e.value.reason, ssl.SSLCertVerificationError), e.value
    # slioctl trusting the other CA is refused too, and names the cause
    r = slioctl(tls_ctl, "--ca-file", str(other.ca), "get", "nodes")
    assert r.returncode != 0
    assert "certificate" in r.stderr.lower() or "ssl" in r.stderr.lower(), r.stderr


def slioctl(ctl, *args, env=None):
    tok = Path(ctl.dir) / "admin.token"
    argv = [binary("cli/slioctl"), "--server", ctl.url, "--token-file", str(tok), *args]
    e = {k: v for k, v in os.environ.items() if not k.startswith("SLIOCTL_")}
    e.update(env or {}, HOME=str(ctl.dir))
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=e)


def test_slioctl_ca_file_flag_env_and_config(tls_ctl, pki):
    r = slioctl(tls_ctl, "--ca-file", str(pki.ca), "get", "nodes")
    assert r.returncode == 0, r.stderr
    r = slioctl(tls_ctl, "get", "nodes", env={"SLIOCTL_CA_FILE": str(pki.ca)})
    assert r.returncode == 0, r.stderr
    cfg = Path(tls_ctl.dir) / "slioctl.yaml"
    cfg.write_text(f'ca_file: "{pki.ca}"\n')
    r = slioctl(tls_ctl, "--config", str(cfg), "get", "nodes")
    assert r.returncode == 0, r.stderr
    # without the CA the system's bundle does not know it: refused
    r = slioctl(tls_ctl, "get", "nodes")
    assert r.returncode != 0 and "nodes" not in r.stdout.lower()


def wait_for(what, fn, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_certificate_replaced_on_disk_is_served_to_new_connections(tls_ctl, pki, tmp_path):
    first = der_fingerprint(tls_ctl.cert)
    assert served_fingerprint("127.0.0.1", tls_ctl.port) == first
    # a keep-alive connection opened before the change keeps working after it
    old = http.client.HTTPSConnection("127.0.0.1", tls_ctl.port, context=tls_ctl.ctx, timeout=5)
    old.request("GET", "/v1/health")
    assert old.getresponse().read() and True

    cert2, key2 = pki.server("controller-rotated")
    replace_file(tls_ctl.key, key2)
    replace_file(tls_ctl.cert, cert2)
    second = der_fingerprint(cert2)
    assert second != first
    wait_for("the new certificate on a new connection",
             lambda: served_fingerprint("127.0.0.1", tls_ctl.port) == second)
    # verified end to end with the same CA, no restart
    assert tls_ctl.proc.poll() is None and tls_ctl.starts == 1
    assert tls_ctl.call("GET", "/v1/health", token=None)[0] == 200
    old.request("GET", "/v1/health")
    assert old.getresponse().status == 200
    old.close()
    assert tls_ctl.metric("sliteio_controller_tls_reloads_total") == 1

    # a broken replacement (a key of another pair) is refused; the last good pair serves on
    _, key3 = pki.server("unrelated")
    replace_file(tls_ctl.key, key3)
    wait_for("the failed reload counted",
             lambda: served_fingerprint("127.0.0.1", tls_ctl.port) == second and
             tls_ctl.metric("sliteio_controller_tls_reload_failures_total") == 1)
    assert tls_ctl.call("GET", "/v1/health", token=None)[0] == 200
    assert "does not belong to the certificate" in tls_ctl.logtail(20000)


def test_controller_refuses_half_tls_config(tmp_path, pki):
    cert, _ = pki.server("half")
    (tmp_path / "ctl").mkdir()
    c = Controller(tmp_path / "ctl")
    c.config["listen"]["tls_cert_file"] = str(cert)
    c.cfgpath.write_text(json.dumps(c.config))
    r = subprocess.run([binary("controller/slio-controller"), "-c", str(c.cfgpath)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "listen.tls_key_file" in r.stdout + r.stderr


# ---- the agent: HTTPS endpoint, /metrics token, controller over HTTPS ----------------------

def tls_agent(tmp_path, pki, tls_ctl, target, metrics_token, agent_pki=None):
    """A real slio-agent serving HTTPS (a certificate of agent_pki, default pki) with /metrics
    behind metrics_token (a file), registering with tls_ctl over HTTPS verified with pki's CA;
    get(path, token) reads it."""
    agent_pki = agent_pki or pki
    cert, key = agent_pki.server("agent")
    a = FileAgent(tmp_path, target, tls_ctl, token_file=tls_ctl.dir / "agent.token")
    conf = a.conf.read_text()
    listen = f"listen: {{address: 127.0.0.1, port: {a.port}}}"
    assert listen in conf and f'urls: ["{tls_ctl.url}"]' in conf
    conf = conf.replace(listen, f'listen: {{address: 127.0.0.1, port: {a.port}, '
                                f'tls_cert_file: "{cert}", tls_key_file: "{key}", '
                                f'token_file: "{metrics_token}"}}')
    conf = conf.replace(f'urls: ["{tls_ctl.url}"]', f'urls: ["{tls_ctl.url}"]\n  ca_file: "{pki.ca}"')
    a.conf.write_text(conf)
    a.url = f"https://127.0.0.1:{a.port}"
    a.cert, a.key = cert, key
    ctx = ssl.create_default_context(cafile=str(agent_pki.ca))

    def get(path, token=None):
        req = urllib.request.Request(a.url + path, headers=(
            {"Authorization": f"Bearer {token}"} if token else {}))
        try:
            with urllib.request.urlopen(req, timeout=5, context=ctx) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    a.get = get
    a.healthz = lambda: json.loads(get("/healthz")[1])
    return a


def wait_registered(tls_ctl):
    return wait_for("the agent registered over HTTPS",
                    lambda: tls_ctl.call("GET", "/v1/nodes/n1")[1]
                    if tls_ctl.call("GET", "/v1/nodes/n1")[0] == 200 else None, timeout=20)


def test_agent_https_metrics_token_and_controller_ca(tmp_path, pki, tls_ctl, target):
    metrics_token = tmp_path / "metrics.token"
    metrics_token.write_text("metrics-token-0123456789abcdef\n")
    a = tls_agent(tmp_path, pki, tls_ctl, target, metrics_token)
    get = a.get
    a.start()
    try:
        # registered with the controller over verified HTTPS, advertising its https URL
        node = wait_registered(tls_ctl)
        assert json.dumps(node).find(a.url) >= 0, node
        assert get("/healthz")[0] == 200  # probes need no token
        assert get("/metrics")[0] == 401
        assert get("/metrics", token="metrics-token-0123456789abcdeX")[0] == 401
        assert get("/metrics", token="metrics-token-0123456789abcde")[0] == 401
        status, text = get("/metrics", token="metrics-token-0123456789abcdef")
        assert status == 200 and "sliteio_agent_tls_reloads_total 0" in text, text[-2000:]
        plain_http_gets_no_answer("127.0.0.1", a.port)
        # the agent's certificate is reloaded like the controller's
        cert2, key2 = pki.server("agent-rotated")
        replace_file(a.key, key2)
        replace_file(a.cert, cert2)
        wait_for("the agent's new certificate",
                 lambda: served_fingerprint("127.0.0.1", a.port) == der_fingerprint(cert2))
        assert get("/healthz")[0] == 200
    finally:
        a.stop()


def test_slioctl_top_reads_a_tls_agent_with_the_metrics_token(tmp_path, pki, tls_ctl, target):
    """slioctl top against a real agent on HTTPS whose /metrics wants the readonly token
    (docs/security.md): the CA bundle of --ca-file and the token of --metrics-token-file reach
    it; without either the agent is named as unreadable and top exits 4. The agent's
    certificate comes from another CA than the controller's, so the bundle must hold both."""
    readonly = tls_ctl.dir / "readonly.token"
    agent_pki = Pki(tmp_path / "agent-pki", name="agent-ca")
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.ca.read_bytes() + agent_pki.ca.read_bytes())
    a = tls_agent(tmp_path, pki, tls_ctl, target, readonly, agent_pki=agent_pki)
    a.start()
    try:
        wait_registered(tls_ctl)
        # a volume on n1 attached to a played consumer node: exported, so counted
        PlayedNode(tls_ctl, "node-b", pools=[{"name": "small", "engine": "file",
                                              "capacity": 1 << 20, "free": 1 << 20}]).register()
        vol = tls_ctl.ok("POST", "/v1/volumes", {"name": "top-tls", "size": 8 << 20,
                                                 "consumer_node": "n1",
                                                 "position": "must_local"}, token="csi")
        tls_ctl.ok("POST", f"/v1/volumes/{vol['id']}/attachments", {"node": "node-b"},
                   token="csi")
        line = f'sliteio_volume_read_ops_total{{volume="{vol["id"]}"'
        wait_for("the volume's counters in /metrics",
                 lambda: line in a.get("/metrics", token=TOKENS["readonly"])[1], timeout=30)
        top = ["top", "volumes", "--interval", "100ms", "-o", "json"]
        ok = slioctl(tls_ctl, "--ca-file", str(bundle), "--metrics-token-file", str(readonly),
                     *top)
        # node-b is played (its agent_url answers nobody): only n1's agent is read
        assert ok.returncode == 0 and 'node "n1"' not in ok.stderr, ok.stderr
        items = json.loads(ok.stdout)["items"]
        assert [i["name"] for i in items] == ["top-tls"], items
        # the same from the environment and from the config file
        r = slioctl(tls_ctl, *top, env={"SLIOCTL_CA_FILE": str(bundle),
                                        "SLIOCTL_METRICS_TOKEN_FILE": str(readonly)})
        assert r.returncode == 0 and json.loads(r.stdout)["items"], r.stderr
        cfg = Path(tls_ctl.dir) / "top.yaml"
        cfg.write_text(f'ca_file: "{bundle}"\nmetrics_token_file: "{readonly}"\n')
        r = slioctl(tls_ctl, "--config", str(cfg), *top)
        assert r.returncode == 0 and json.loads(r.stdout)["items"], r.stderr
        # no metrics token (the admin token of --token-file is not sent to agents): 401, exit 4
        r = slioctl(tls_ctl, "--ca-file", str(bundle), *top)
        assert r.returncode == 4 and 'node "n1": metrics: https://' in r.stderr, r.stderr
        assert "HTTP 401 (the agent wants a token: --metrics-token-file)" in r.stderr, r.stderr
        # a token that is not the agent's: 401 as well
        r = slioctl(tls_ctl, "--ca-file", str(bundle), "--metrics-token-file",
                    str(tls_ctl.dir / "admin.token"), *top)
        assert r.returncode == 4 and "HTTP 401" in r.stderr, r.stderr
        # the controller's CA alone: the controller answers, the agent's certificate is refused
        r = slioctl(tls_ctl, "--ca-file", str(pki.ca), "--metrics-token-file", str(readonly),
                    *top)
        n1 = [l for l in r.stderr.splitlines() if 'node "n1"' in l]
        assert r.returncode == 4 and len(n1) == 2 and "HTTP" not in r.stderr, r.stderr
        assert "certificate" in n1[0].lower() or "ssl" in n1[0].lower(), r.stderr
    finally:
        a.stop()


# ---- slio-csi: --ca-file -------------------------------------------------------------------

@pytest.fixture(scope="module")
def csi_stubs(tmp_path_factory):
    from csi_helpers import generate_stubs
    return generate_stubs(tmp_path_factory.mktemp("csi-stubs"))


def test_csi_verifies_the_controller_with_ca_file(tmp_path, pki, tls_ctl, csi_stubs):
    import grpc
    from csi_helpers import Csi

    pb2, pb2_grpc = csi_stubs
    other = Pki(tmp_path / "other", name="other-ca")
    for ca, ok in ((pki.ca, True), (other.ca, False)):
        d = tmp_path / f"csi-{ok}"
        d.mkdir()
        c = Csi(binary("csi/slio-csi"), d, tls_ctl.url, pb2, pb2_grpc, mode="controller",
                extra=["--token-file", str(tls_ctl.dir / "csi.token"), "--ca-file", str(ca)])
        try:
            if ok:
                c.controller.ListVolumes(pb2.ListVolumesRequest(), timeout=20)
            else:
                with pytest.raises(grpc.RpcError) as e:
                    c.controller.ListVolumes(pb2.ListVolumesRequest(), timeout=20)
                assert e.value.code() != grpc.StatusCode.OK
                assert "certificate" in c.logtail().lower() + e.value.details().lower(), \
                    (e.value.details(), c.logtail())
        finally:
            assert c.stop() == 0, c.logtail()
