# SPDX-License-Identifier: Apache-2.0
"""tests/compat/spdk_rpc_compat.py runs by hand against an SPDK build (none in
CI); its comparison of result shapes, its copy of SPDK rpc.py's load_config
and its table of SPDK's decoders are checked here so that a run reports what
it claims."""
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "tests/compat"))
import spdk_rpc_compat as compat  # noqa: E402

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
