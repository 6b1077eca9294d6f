# SPDX-License-Identifier: Apache-2.0
"""Rules on a rendered variant beyond the schemas: labels and selectors agree,
references resolve, images are pinned, containers have resources and probes,
the CSI objects say what docs/csi.md and the sidecars need."""
import re

import yaml

NAMESPACE = "sliteio"
DRIVER = "csi.sliteio.io"
OUR_IMAGE = re.compile(r"^sliteio/(controller|agent|tgt|csi):\d+\.\d+\.\d+$")
SIDECAR_IMAGE = re.compile(r"^registry\.k8s\.io/(sig-storage/[a-z-]+:v\d+\.\d+\.\d+|etcd:\d+\.\d+\.\d+-\d+)$")
# Secrets an operator creates once per cluster (deploy/k8s/install), never rendered.
EXTERNAL_SECRETS = {"sliteio-tokens"}
# Containers without a liveness probe, and why: the kubernetes-csi controller
# sidecars serve no health endpoint unless given --http-endpoint, and the
# livenessprobe sidecar is itself the probe of the CSI container.
NO_LIVENESS = {"csi-provisioner", "csi-resizer", "csi-snapshotter", "liveness-probe"}
# Daemons that must also say when they are ready to serve.
NEEDS_READINESS = {"controller", "agent", "tgt", "etcd"}
SC_PARAMS = {"thin", "fsType", "csi.storage.k8s.io/fstype", "mkfsOptions", "position", "spreadGroup",
             "spreadLevel", "spreadHard", "nodeSelector", "poolSelector", "rwIopsPerSec",
             "rwMBytesPerSec", "rMBytesPerSec", "wMBytesPerSec",
             # read by the kubelet and the provisioner (never reach slio-csi's CreateVolume)
             "csi.storage.k8s.io/node-stage-secret-name",
             "csi.storage.k8s.io/node-stage-secret-namespace"}
SC_ENUMS = {"thin": {"true", "false"}, "spreadHard": {"true", "false"}, "fsType": {"ext4", "xfs"},
            "position": {"any", "must_local", "prefer_local", "prefer_remote", "must_remote"},
            "spreadLevel": {"node", "rack", "zone"}}
SC_NUMBERS = {"rwIopsPerSec", "rwMBytesPerSec", "rMBytesPerSec", "wMBytesPerSec"}
WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CSIDriver", "StorageClass",
                  "VolumeSnapshotClass"}


def name_of(obj):
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def check(objs):
    """List of 'Kind/name: problem' strings for one rendered variant."""
    errors = []
    index = {}
    for o in objs:
        index.setdefault(o.get("kind"), {})[(o.get("metadata") or {}).get("name")] = o
    for o in objs:
        for msg in _check_object(o, index):
            errors.append(f"{name_of(o)}: {msg}")
    errors += _check_required_objects(index)
    return errors


def _check_object(o, index):
    meta = o.get("metadata") or {}
    kind = o.get("kind")
    if kind not in CLUSTER_SCOPED and meta.get("namespace") != NAMESPACE:
        yield f"namespace is {meta.get('namespace')!r}, not {NAMESPACE!r}"
    if kind in WORKLOADS:
        yield from _check_workload(o, index)
    elif kind == "Service":
        yield from _check_service(o, index)
    elif kind == "StorageClass":
        yield from _check_storageclass(o)
    elif kind in ("RoleBinding", "ClusterRoleBinding"):
        yield from _check_binding(o, index)


def _pod(o):
    return ((o.get("spec") or {}).get("template") or {}).get("spec") or {}


def _check_workload(o, index):
    spec = o.get("spec") or {}
    match = ((spec.get("selector") or {}).get("matchLabels")) or {}
    labels = (((spec.get("template") or {}).get("metadata") or {}).get("labels")) or {}
    if not match:
        yield "selector.matchLabels is empty"
    for k, v in match.items():
        if labels.get(k) != v:
            yield f"selector {k}={v} does not match the pod template's labels {labels}"
    if o["kind"] == "StatefulSet" and spec.get("serviceName") not in index.get("Service", {}):
        yield f"serviceName {spec.get('serviceName')!r} is not a Service of this variant"
    pod = _pod(o)
    sa = pod.get("serviceAccountName")
    if sa and sa not in index.get("ServiceAccount", {}):
        yield f"serviceAccountName {sa!r} is not defined"
    yield from _check_volumes(pod, index, spec.get("volumeClaimTemplates") or [])
    for field in ("initContainers", "containers"):
        for c in pod.get(field) or []:
            yield from _check_container(c, field == "initContainers")


def _check_volumes(pod, index, claim_templates):
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    volumes.update({(t.get("metadata") or {}).get("name"): t for t in claim_templates})
    for v in pod.get("volumes") or []:
        cm = (v.get("configMap") or {}).get("name")
        if cm and cm not in index.get("ConfigMap", {}):
            yield f"volume {v['name']!r}: ConfigMap {cm!r} is not rendered"
        secret = (v.get("secret") or {}).get("secretName")
        if secret and secret not in index.get("Secret", {}) and secret not in EXTERNAL_SECRETS:
            yield f"volume {v['name']!r}: Secret {secret!r} is neither rendered nor created by deploy/k8s/install"
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and claim not in index.get("PersistentVolumeClaim", {}):
            yield f"volume {v['name']!r}: PersistentVolumeClaim {claim!r} is not rendered"
    for field in ("initContainers", "containers"):
        for c in pod.get(field) or []:
            for m in c.get("volumeMounts") or []:
                if m.get("name") not in volumes:
                    yield f"container {c.get('name')!r}: volumeMount {m.get('name')!r} names no volume"


def _check_container(c, init):
    name = c.get("name")
    image = c.get("image") or ""
    if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1]:
        yield f"container {name!r}: image {image!r} is not pinned to a version"
    elif not (OUR_IMAGE.match(image) or SIDECAR_IMAGE.match(image)):
        yield f"container {name!r}: image {image!r} is neither sliteio/<component>:X.Y.Z nor a pinned registry.k8s.io image"
    res = c.get("resources") or {}
    if not (res.get("requests") or {}).get("cpu") or not (res.get("requests") or {}).get("memory"):
        yield f"container {name!r}: no cpu and memory requests"
    if not (res.get("limits") or {}).get("memory"):
        yield f"container {name!r}: no memory limit"
    if init:
        return
    if name not in NO_LIVENESS and not c.get("livenessProbe"):
        yield f"container {name!r}: no livenessProbe"
    if name in NEEDS_READINESS and not c.get("readinessProbe"):
        yield f"container {name!r}: no readinessProbe"
    ports = {p.get("name") for p in c.get("ports") or []}
    for probe in ("livenessProbe", "readinessProbe"):
        p = c.get(probe) or {}
        port = (p.get("httpGet") or p.get("tcpSocket") or {}).get("port")
        if isinstance(port, str) and port not in ports:
            yield f"container {name!r}: {probe} names port {port!r}, which the container does not declare"


def _check_service(o, index):
    selector = (o.get("spec") or {}).get("selector") or {}
    if not selector:
        return
    for w in (x for kind in WORKLOADS for x in index.get(kind, {}).values()):
        labels = (((w.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        if all(labels.get(k) == v for k, v in selector.items()):
            break
    else:
        yield f"selector {selector} selects no pod of this variant"


def _check_storageclass(o):
    if o.get("provisioner") != DRIVER:
        yield f"provisioner {o.get('provisioner')!r} is not {DRIVER!r}"
    for k, v in (o.get("parameters") or {}).items():
        if k not in SC_PARAMS:
            yield f"parameter {k!r} is not one docs/csi.md defines (slio-csi would refuse it)"
        elif k in SC_ENUMS and v not in SC_ENUMS[k]:
            yield f"parameter {k}={v!r}: not one of {sorted(SC_ENUMS[k])}"
        elif k in SC_NUMBERS and not re.fullmatch(r"\d+", str(v)):
            yield f"parameter {k}={v!r}: not an unsigned integer"
    params = o.get("parameters") or {}
    if any(k in params for k in ("spreadLevel", "spreadHard")) and "spreadGroup" not in params:
        yield "spreadLevel/spreadHard need spreadGroup"


def _check_binding(o, index):
    ref = o.get("roleRef") or {}
    if ref.get("name") not in index.get(ref.get("kind"), {}):
        yield f"roleRef {ref.get('kind')}/{ref.get('name')} is not defined"
    for s in o.get("subjects") or []:
        if s.get("kind") == "ServiceAccount" and s.get("name") not in index.get("ServiceAccount", {}):
            yield f"subject ServiceAccount {s.get('name')!r} is not defined"


def _check_required_objects(index):
    errors = []
    drv = index.get("CSIDriver", {}).get(DRIVER)
    if not drv:
        return [f"CSIDriver/{DRIVER}: missing"]
    spec = drv.get("spec") or {}
    want = {"attachRequired": False, "podInfoOnMount": True, "volumeLifecycleModes": ["Persistent"]}
    for k, v in want.items():
        if spec.get(k) != v:
            errors.append(f"CSIDriver/{DRIVER}: spec.{k} is {spec.get(k)!r}, must be {v!r}")
    for vsc in index.get("VolumeSnapshotClass", {}).values():
        if vsc.get("driver") != DRIVER or set(vsc.get("parameters") or {}) - {"cowReserve"}:
            errors.append(f"VolumeSnapshotClass/{vsc['metadata']['name']}: driver must be {DRIVER}, "
                          "parameters only cowReserve")
    args = [a for d in index.get("Deployment", {}).values() for c in _pod(d).get("containers") or []
            if c.get("name") == "csi-provisioner" for a in c.get("args") or []]
    for need in ("--feature-gates=Topology=true", "--enable-capacity"):
        if need not in args:
            errors.append(f"csi-provisioner: argument {need} missing")
    for name, cm in index.get("ConfigMap", {}).items():
        for k, text in (cm.get("data") or {}).items():
            try:
                yaml.safe_load(text)
            except yaml.YAMLError as e:
                errors.append(f"ConfigMap/{name}: data {k!r} is not YAML: {e}")
    return errors
