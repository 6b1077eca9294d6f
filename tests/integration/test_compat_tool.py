# SPDX-License-Identifier: Apache-2.0
"""tests/compat/spdk_rpc_compat.py runs by hand against an SPDK build (none in
CI); its comparison of result shapes is checked here so that a run reports
what it claims."""
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
