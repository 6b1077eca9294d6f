# SPDX-License-Identifier: Apache-2.0
"""Offline validation of objects against Kubernetes' own schemas: the models
of Debian's python3-kubernetes (openapi_types / attribute_map of each class,
generated from Kubernetes' OpenAPI). Checked: every field known (no typo
silently dropped by the API server's pruning), every value of its type,
every required field present (the models' setters refuse None for those).

python3-kubernetes 22.6 in Debian 12 carries Kubernetes 1.22's schemas. Every
API version used here (v1 of core, apps, rbac, storage) is unchanged up to
1.31 for the fields we use; a field added after 1.22 would be reported
unknown, which is the safe direction.

VolumeSnapshotClass is a CRD (external-snapshotter), not in the client: its
v1 schema is written out below from the CRD.
"""
import functools
import inspect
import re

import kubernetes.client as k8s

GROUP_PREFIX = {
    "v1": "V1",
    "apps/v1": "V1",
    "rbac.authorization.k8s.io/v1": "V1",
    "storage.k8s.io/v1": "V1",
    "policy/v1": "V1",
    "batch/v1": "V1",
    "coordination.k8s.io/v1": "V1",
}
# kinds whose class name differs from V1<Kind>
CLASS_NAME = {("v1", "CSIDriver"): "V1CSIDriver"}

SNAPSHOT_CLASS_FIELDS = {
    "apiVersion": ("str", True),
    "kind": ("str", True),
    "metadata": ("V1ObjectMeta", True),
    "driver": ("str", True),
    "deletionPolicy": ("str", True),
    "parameters": ("dict(str, str)", False),
}


@functools.lru_cache(maxsize=None)
def _fields(cls_name):
    """json key -> (type string, required) for a model class."""
    cls = getattr(k8s, cls_name)
    out = {}
    for attr, typ in cls.openapi_types.items():
        prop = getattr(cls, attr, None)
        src = inspect.getsource(prop.fset) if isinstance(prop, property) and prop.fset else ""
        required = "must not be `None`" in src
        out[cls.attribute_map[attr]] = (typ, required)
    return out


def model_for(obj):
    api, kind = obj.get("apiVersion"), obj.get("kind")
    if (api, kind) == ("snapshot.storage.k8s.io/v1", "VolumeSnapshotClass"):
        return SNAPSHOT_CLASS_FIELDS
    if api not in GROUP_PREFIX or not isinstance(kind, str):
        return None
    name = CLASS_NAME.get((api, kind), GROUP_PREFIX[api] + kind)
    return _fields(name) if hasattr(k8s, name) else None


def validate(obj):
    """List of 'path: problem' strings for one object (empty when valid)."""
    fields = model_for(obj)
    if fields is None:
        return [f"apiVersion {obj.get('apiVersion')!r} kind {obj.get('kind')!r}: no schema known "
                "(not a Kubernetes v1 API type deploy/check knows)"]
    errors = []
    _check_fields(obj, fields, "", errors)
    return errors


def _check_fields(value, fields, path, errors):
    if not isinstance(value, dict):
        errors.append(f"{path or '.'}: expected an object, got {type(value).__name__}")
        return
    for k, v in value.items():
        if k not in fields:
            errors.append(f"{path}{k}: unknown field")
            continue
        _check_value(v, fields[k][0], f"{path}{k}", errors)
    for k, (_, required) in fields.items():
        if required and value.get(k) is None:
            errors.append(f"{path}{k}: required field missing")


def _check_value(v, typ, path, errors):
    if v is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", typ)
    if m:
        if not isinstance(v, list):
            errors.append(f"{path}: expected a list, got {type(v).__name__}")
            return
        for i, item in enumerate(v):
            _check_value(item, m.group(1), f"{path}[{i}]", errors)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", typ)
    if m:
        if not isinstance(v, dict):
            errors.append(f"{path}: expected a map, got {type(v).__name__}")
            return
        for k, item in v.items():
            if not isinstance(k, str):
                errors.append(f"{path}: key {k!r} is not a string")
            _check_value(item, m.group(1), f"{path}.{k}", errors)
        return
    scalar = {"str": str, "int": int, "bool": bool, "float": (int, float), "datetime": str}
    if typ in scalar:
        ok = isinstance(v, scalar[typ]) and not (typ in ("int", "float") and isinstance(v, bool))
        if not ok:
            errors.append(f"{path}: expected {typ}, got {type(v).__name__} {v!r}")
        return
    if typ == "object":  # IntOrString, RawExtension: either is fine
        return
    if hasattr(k8s, typ):
        _check_fields(v, _fields(typ), path + ".", errors)
        return
    errors.append(f"{path}: schema type {typ!r} unknown to deploy/check")
