# SPDX-License-Identifier: Apache-2.0
"""The subset of kustomize deploy/k8s uses, rendered the way kustomize does.

Debian 12 ships kubectl 1.20 (package kubernetes-client) whose embedded
kustomize is v2.0.3; today's kustomize v5 reads the same fields (bases and
patchesStrategicMerge are deprecated there but still accepted). deploy/k8s
uses only these, so kustomize of either age and this renderer agree:

  namespace, resources (files), bases (directories), patchesStrategicMerge,
  images (newTag / newName), configMapGenerator (files), generatorOptions
  (disableNameSuffixHash: true only).

Any other field is refused, so a kustomization cannot use something this
renderer would silently ignore.
"""
import copy
import os

import yaml

KNOWN_FIELDS = {"apiVersion", "kind", "namespace", "resources", "bases",
                "patchesStrategicMerge", "images", "configMapGenerator",
                "generatorOptions"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CSIDriver",
                  "StorageClass", "VolumeSnapshotClass", "PersistentVolume",
                  "CustomResourceDefinition", "PriorityClass"}
MAX_DEPTH = 8


class RenderError(Exception):
    pass


def key(obj):
    meta = obj.get("metadata") or {}
    return (obj.get("kind"), meta.get("namespace"), meta.get("name"))


def load_documents(path):
    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        raise RenderError(f"{path}: {e}") from None
    for d in docs:
        if not isinstance(d, dict):
            raise RenderError(f"{path}: a document is not a mapping")
    return docs


def _inside(root, rel, what):
    path = os.path.normpath(os.path.join(root, rel))
    if not os.path.exists(path):
        raise RenderError(f"{root}/kustomization.yaml: {what} {rel!r} does not exist")
    return path


def _generate_configmap(root, gen, options):
    name = gen.get("name")
    if not name:
        raise RenderError(f"{root}: configMapGenerator entry without a name")
    if set(gen) - {"name", "namespace", "files"}:
        raise RenderError(f"{root}: configMapGenerator {name!r}: only name, namespace and files are supported")
    if options.get("disableNameSuffixHash") is not True:
        raise RenderError(f"{root}: configMapGenerator needs generatorOptions.disableNameSuffixHash: true "
                          "(name references are not rewritten by this renderer)")
    data = {}
    for entry in gen.get("files") or []:
        k, _, rel = entry.partition("=") if "=" in entry else (os.path.basename(entry), "", entry)
        with open(_inside(root, rel, "file"), encoding="utf-8") as f:
            data[k] = f.read()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}
    if gen.get("namespace"):
        cm["metadata"]["namespace"] = gen["namespace"]
    return cm


def strategic_merge(base, patch):
    """Strategic merge as kustomize does it for the built-in types: maps merge
    key by key, lists of maps with a `name` merge item by name (containers,
    volumes, volumeMounts, env, ports), other lists are replaced, a null value
    deletes the key."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(base)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif k in out and isinstance(out[k], dict) and isinstance(v, dict):
            out[k] = strategic_merge(out[k], v)
        elif k in out and _named_list(out[k]) and _named_list(v):
            merged = [copy.deepcopy(x) for x in out[k]]
            index = {x["name"]: i for i, x in enumerate(merged)}
            for item in v:
                if item["name"] in index:
                    merged[index[item["name"]]] = strategic_merge(merged[index[item["name"]]], item)
                else:
                    merged.append(copy.deepcopy(item))
            out[k] = merged
        else:
            out[k] = copy.deepcopy(v)
    return out


def _named_list(v):
    return isinstance(v, list) and v and all(isinstance(x, dict) and "name" in x for x in v)


def _set_image(container, images):
    image = container.get("image", "")
    name, tag = image, None
    if ":" in image.rsplit("/", 1)[-1]:
        name, tag = image.rsplit(":", 1)
    for rule in images:
        if rule.get("name") == name:
            name = rule.get("newName", name)
            tag = str(rule["newTag"]) if "newTag" in rule else tag
    container["image"] = f"{name}:{tag}" if tag else name


def _pod_spec(obj):
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    return ((spec.get("template") or {}).get("spec")) if isinstance(spec.get("template"), dict) else None


def _apply_images(objs, images):
    for obj in objs:
        pod = _pod_spec(obj)
        if not isinstance(pod, dict):
            continue
        for field in ("initContainers", "containers"):
            for c in pod.get(field) or []:
                if isinstance(c, dict):
                    _set_image(c, images)


def render(root, depth=0):
    """Render the kustomization in directory root; returns a list of objects."""
    if depth > MAX_DEPTH:
        raise RenderError(f"{root}: bases nested deeper than {MAX_DEPTH}")
    kfile = os.path.join(root, "kustomization.yaml")
    docs = load_documents(kfile) if os.path.exists(kfile) else None
    if not docs or len(docs) != 1:
        raise RenderError(f"{root}: no single-document kustomization.yaml")
    k = docs[0]
    unknown = set(k) - KNOWN_FIELDS
    if unknown:
        raise RenderError(f"{kfile}: fields not supported by deploy/check's renderer: {sorted(unknown)}")
    objs = []
    for rel in k.get("bases") or []:
        objs += render(_inside(root, rel, "base"), depth + 1)
    for rel in k.get("resources") or []:
        path = _inside(root, rel, "resource")
        if os.path.isdir(path):
            raise RenderError(f"{kfile}: resource {rel!r} is a directory: list it under bases "
                              "(kustomize v2.0.3, Debian's kubectl, reads directories only there)")
        objs += load_documents(path)
    for gen in k.get("configMapGenerator") or []:
        objs.append(_generate_configmap(root, gen, k.get("generatorOptions") or {}))
    if k.get("namespace"):
        for obj in objs:
            if obj.get("kind") not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = k["namespace"]
    for rel in k.get("patchesStrategicMerge") or []:
        for patch in load_documents(_inside(root, rel, "patch")):
            objs = _patch(objs, patch, rel, kfile)
    if k.get("images"):
        _apply_images(objs, k["images"])
    seen = set()
    for obj in objs:
        if key(obj) in seen:
            raise RenderError(f"{root}: {key(obj)[0]}/{key(obj)[2]} defined twice")
        seen.add(key(obj))
    return objs


def _patch(objs, patch, rel, kfile):
    target = (patch.get("kind"), (patch.get("metadata") or {}).get("name"))
    hits = [i for i, o in enumerate(objs) if (o.get("kind"), (o.get("metadata") or {}).get("name")) == target]
    if len(hits) != 1:
        raise RenderError(f"{kfile}: patch {rel!r} matches {len(hits)} objects named {target[0]}/{target[1]}")
    objs[hits[0]] = strategic_merge(objs[hits[0]], patch)
    return objs
