# SPDX-License-Identifier: Apache-2.0
"""Every operation of api/openapi.yaml against a real slio-controller, with
every kind of credential: no token and a made-up token are 401, a token of
each scope that may not call it is 403, and each scope that may is let through
(whatever the handler then says: 400 for the empty body, 404 for the made-up
object — never 401 or 403).

The operations come from the YAML, not from a list here, and the controller's
route tables (controller/api/*.c) must name exactly the same operations: a new
endpoint in either place is walked here, and one whose path no scope rule
below covers fails the test until the rule is written down."""
import re
import uuid
from pathlib import Path

import pytest
import yaml

from controller_proc import TOKENS, Controller

REPO = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((REPO / "api/openapi.yaml").read_text())
SCOPES = ("admin", "csi", "agent", "readonly")
METHODS = ("get", "post", "put", "patch", "delete")
MUTATING = {"post", "put", "patch", "delete"}

# Who may mutate what, as api/openapi.yaml's description says: admin everything, csi
# volumes/snapshots/attachments, agent the /v1/agent endpoints, readonly nothing.
MUTATE_RULES = (
    ("/v1/agent/", {"admin", "agent"}),
    ("/v1/volumes", {"admin", "csi"}),
    ("/v1/snapshots", {"admin", "csi"}),
    ("/v1/nodes/", {"admin"}),
)
# Reads: any valid token, except the agent endpoints (they answer an agent's own questions).
READ_RULES = (
    ("/v1/agent/", {"admin", "agent"}),
    ("/", set(SCOPES)),
)
PARAMS = {"id": str(uuid.UUID(int=0x5eed)), "node": "n-auth", "pool": "p-auth"}


def operations():
    ops = []
    for path, item in SPEC["paths"].items():
        for method in METHODS:
            if method in item:
                ops.append((method.upper(), path, item[method]))
    return ops


OPS = operations()


def is_public(op):
    return op.get("security", SPEC.get("security")) == []


def allowed(method, path):
    rules = MUTATE_RULES if method.lower() in MUTATING else READ_RULES
    for prefix, scopes in rules:
        if path.startswith(prefix):
            return scopes
    pytest.fail(f"{method} {path}: no scope rule covers this path; add one to "
                f"{Path(__file__).name} (and say it in api/openapi.yaml)")


def concrete(path):
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS[m.group(1)], path)


def body_for(op):
    return {} if "requestBody" in op else None


@pytest.fixture(scope="module")
def ctl(tmp_path_factory):
    c = Controller(tmp_path_factory.mktemp("auth")).start()
    yield c
    c.stop()


def test_openapi_and_the_route_tables_name_the_same_operations():
    in_spec = {(m, p) for m, p, _ in OPS}
    in_code = set()
    for src in (REPO / "controller/api").glob("*.c"):
        for m, p in re.findall(r'\{"(GET|POST|PUT|PATCH|DELETE)",\s*"(/[^"]*)"', src.read_text()):
            in_code.add((m, p))
    assert in_code == in_spec, (f"only in the code: {sorted(in_code - in_spec)}; "
                                f"only in api/openapi.yaml: {sorted(in_spec - in_code)}")
    mutating = [(m, p) for m, p, op in OPS if m.lower() in MUTATING]
    assert len(mutating) >= 14, mutating  # as of this writing
    assert not [(m, p) for m, p, op in OPS if m.lower() in MUTATING and is_public(op)], \
        "a mutating operation without authentication"


def refusals():
    """(method, path, op, credential, want) for every refusal of every operation."""
    rows = []
    for method, path, op in OPS:
        if is_public(op):
            continue
        rows.append(pytest.param(method, path, op, None, 401, id=f"{method} {path} no-token"))
        rows.append(pytest.param(method, path, op, "not-a-token-0123456789abcdef", 401,
                                 id=f"{method} {path} bad-token"))
        for scope in SCOPES:
            if scope not in allowed(method, path):
                rows.append(pytest.param(method, path, op, scope, 403,
                                         id=f"{method} {path} scope-{scope}"))
    return rows


def passes():
    rows = []
    for method, path, op in OPS:
        if is_public(op):
            continue
        for scope in sorted(allowed(method, path)):
            rows.append(pytest.param(method, path, op, scope, id=f"{method} {path} {scope}"))
    return rows


@pytest.mark.parametrize("method,path,op,token,want", refusals())
def test_refused(ctl, method, path, op, token, want):
    status, out = ctl.call(method, concrete(path), body_for(op), token=token, timeout=10)
    assert status == want, f"{method} {path} with {token or 'no token'}: {status} {out}"
    assert out["error"]["code"] == ("unauthenticated" if want == 401 else "forbidden"), out
    # the answer never echoes the token presented
    if token:
        assert TOKENS.get(token, token) not in str(out)


@pytest.mark.parametrize("method,path,op,scope", passes())
def test_right_scope_passes_authorization(ctl, method, path, op, scope):
    status, out = ctl.call(method, concrete(path), body_for(op), token=scope, timeout=10)
    assert status not in (401, 403), f"{method} {path} as {scope}: {status} {out}"
    assert status < 500, f"{method} {path} as {scope}: {status} {out}"


def test_every_mutating_operation_is_walked():
    walked = {(p.values[0], p.values[1]) for p in refusals() if p.values[3] is None}
    mutating = {(m, p) for m, p, op in OPS if m.lower() in MUTATING}
    assert mutating <= walked
