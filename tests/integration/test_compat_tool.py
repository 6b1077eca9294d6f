# SPDX-License-Identifier: Apache-2.0
"""tests/compat/spdk_rpc_compat.py runs by hand against an SPDK build (none in
CI); its comparison of result shapes, its copy of SPDK rpc.py's load_config
and its table of SPDK's decoders are checked here so that a run reports what
it claims."""
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "tests/compat"))
import spdk_rpc_compat as compat  # noqa: E402
import spdk_rpc_py  # noqa: E402

sys.path.pop(0)


def diff(ref, ours):
    out = {"missing": [], "extra": [], "type": []}
    compat.compare_shapes(compat.shape(ref), compat.shape(ours), "result", out)
    return out


def test_members_missing_in_ours_are_found_recursively():
    ref = [{"name": "a", "types": {"read": True, "reset": True}, "n": 1}]
    ours = [{"name": "a", "types": {"read": False}, "n": 2, "uuid": "u"}]
    assert diff(ref, ours) == {"missing": ["result[].types.reset"], "extra": ["result[].uuid"],
                               "type": []}


def test_types_differ_but_int_and_float_are_one_number():
    assert diff({"a": 1, "b": 1.5, "c": "x"}, {"a": 2.0, "b": 3, "c": 4})["type"] == [
        "result.c: SPDK str, slio-tgt int"]


def test_empty_lists_compare_nothing_inside():
    assert diff({"l": []}, {"l": [{"x": 1}]}) == {"missing": [], "extra": [], "type": []}
    assert diff({"l": [{"x": 1}]}, {"l": []}) == {"missing": [], "extra": [], "type": []}


class FakeSpdk:
    """rpc_get_methods as SPDK answers it before and after framework_start_init."""

    STARTUP = {"rpc_get_methods", "framework_start_init", "iobuf_set_options"}
    RUNTIME = {"rpc_get_methods", "bdev_malloc_create", "nvmf_create_transport"}

    def __init__(self):
        self.started = False
        self.calls = []

    def __call__(self, method, params):
        self.calls.append(method)
        if method == "rpc_get_methods":
            if params.get("current"):
                return sorted(self.RUNTIME if self.started else self.STARTUP)
            return sorted(self.STARTUP | self.RUNTIME)
        if method == "framework_start_init":
            self.started = True
        return True


def doc(*methods):
    return {"subsystems": [{"subsystem": "x", "config": [{"method": m, "params": {}}
                                                         for m in methods]},
                           {"subsystem": "empty", "config": []}]}


def test_rpc_py_load_config_refuses_an_unknown_method_before_calling_anything():
    spdk = FakeSpdk()
    try:
        compat.rpc_py_load_config(spdk, doc("iobuf_set_options", "vhost_create_blk_controller"))
        raise AssertionError("accepted")
    except compat.RpcPyError as e:
        assert "Unknown method" in str(e)
    assert spdk.calls == ["rpc_get_methods"]


def test_rpc_py_load_config_runs_startup_methods_then_starts_the_framework():
    spdk = FakeSpdk()
    assert compat.rpc_py_load_config(
        spdk, doc("nvmf_create_transport", "iobuf_set_options", "bdev_malloc_create")) == []
    assert [c for c in spdk.calls if c != "rpc_get_methods"] == [
        "iobuf_set_options", "framework_start_init", "nvmf_create_transport",
        "bdev_malloc_create"]


def test_rpc_py_load_config_without_framework_start_init():
    """slio-tgt lists every method at once and has no framework_start_init."""
    calls = []

    def slio(method, params):
        calls.append(method)
        return ["rpc_get_methods", "a", "b"] if method == "rpc_get_methods" else True
    assert compat.rpc_py_load_config(slio, doc("b", "a")) == []
    assert [c for c in calls if c != "rpc_get_methods"] == ["b", "a"]


def test_schema_errors_name_what_a_release_refuses():
    saved = {"subsystems": [{"subsystem": "bdev", "config": [
        {"method": "bdev_aio_create", "params": {"name": "a", "filename": "/f", "uuid": "u"}},
        {"method": "iobuf_set_options", "params": {"anything": 1}}]},
        {"subsystem": "nvmf", "config": [
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": "n", "namespace": {"bdev_name": "a", "no_auto_visible": False}}}]}]}
    assert compat.schema_errors(saved, "v23.05") == [
        "bdev_aio_create: uuid is unknown to SPDK v23.05",
        "nvmf_subsystem_add_ns: namespace.no_auto_visible is unknown to SPDK v23.05"]
    assert compat.schema_errors(saved, "v24.09") == []
    assert compat.schema_errors(saved, "v25.09") == []


def test_spdk_release_from_spdk_get_version():
    assert compat.spdk_release({"version": "SPDK v23.01.1", "fields": {
        "major": 23, "minor": 1, "patch": 1, "suffix": ""}}) == "v23.01"


def test_known_members_reported_not_counted(capsys):
    """SPDK's memory_domains (a RAM bdev's) is left out on purpose: 'known'; any
    other missing member still counts (first real run, 2026-12-06)."""
    spdk = {"malloc bdev": ("ok", [{"name": "m0", "memory_domains": [{"dma_device_id": "x"}]}]),
            "bdevs": ("ok", [{"name": "c0", "claimed": False}])}
    ours = {"malloc bdev": ("ok", [{"name": "m0"}]), "bdevs": ("ok", [{"name": "c0"}])}
    assert compat.report(spdk, ours, False) == 1
    out = capsys.readouterr().out
    assert "known both succeed; left out on purpose: result[].memory_domains" in out
    assert "DIFF  both succeed; missing in slio-tgt: result[].claimed" in out


class BusyOnce:
    """SPDK answers a subsystem call made during a state change with -32603."""

    def __init__(self, times):
        self.times, self.calls = times, 0

    def call(self, method, params):
        self.calls += 1
        if self.calls <= self.times:
            return {"error": {"code": -32603, "message": "Subsystem currently in another "
                              "state change try again later."}}
        return {"result": True}


def test_spdk_busy_subsystem_is_called_again():
    cli = BusyOnce(2)
    assert compat.call_when_settled(cli, "nvmf_delete_subsystem", {"nqn": "n"}) == \
        {"result": True}
    assert cli.calls == 3
    other = {"error": {"code": -32602, "message": "Invalid parameters"}}
    cli.call = lambda m, p: other
    assert compat.call_when_settled(cli, "nvmf_delete_subsystem", {"nqn": "n"}) is other


def test_rpc_py_stage_compares_outcomes(capsys):
    spdk = {"add listener again": (True, None), "!aio create bad block size": (False, -22),
            "!qpairs unknown": (False, -32602)}
    ours = {"add listener again": (True, None), "!aio create bad block size": (False, -32602),
            "!qpairs unknown": (False, -32602)}
    assert spdk_rpc_py.compare(spdk, ours) == 1
    assert "DIFF  SPDK -22 | slio-tgt -32602" in capsys.readouterr().out
    # a failure whose code rpc.py did not print is never "the same"
    assert spdk_rpc_py.compare({"!x": (False, None)}, {"!x": (False, None)}) == 1
    # the stage's commands cover issue 18's methods
    argv = " ".join(" ".join(a) for _, a in spdk_rpc_py.commands("/f", 4420))
    for m in ("bdev_malloc_create", "bdev_malloc_delete", "nvmf_subsystem_get_listeners",
              "nvmf_subsystem_get_qpairs", "nvmf_subsystem_listener_set_ana_state"):
        assert m in argv


def test_listener_added_again_is_known_from_spdk_v24_05(capsys):
    """SPDK v24.05+ refuses an existing listener (-32602), slio-tgt accepts it
    (issue 18): 'known' in both stages, while SPDK refusing anything else counts."""
    spdk = {"add listener again": ("err", -32602, "Invalid parameters"),
            "add host": ("err", -32602, "Invalid parameters")}
    ours = {"add listener again": ("ok", True), "add host": ("ok", True)}
    assert compat.report(spdk, ours, False) == 1
    out = capsys.readouterr().out
    assert "add listener again         known" in out
    assert "add host                   DIFF" in out
    assert spdk_rpc_py.compare({"add listener again": (False, -32602)},
                               {"add listener again": (True, None)},
                               compat.KNOWN_ACCEPTED) == 0
    assert spdk_rpc_py.compare({"add listener again": (False, -32602)},
                               {"add listener again": (True, None)}) == 1
