# SPDX-License-Identifier: Apache-2.0
"""Textual lint of deploy/images/*/Containerfile (no container engine in CI to
build them): base image debian:12 pinned, our .deb installed from the build
context with --no-install-recommends, apt lists removed, a USER or a reason,
no ADD of remote URLs, no :latest anywhere."""
import os
import re

COMPONENTS = ("tgt", "agent", "controller", "csi")


def lint_containerfiles(images_dir):
    errors = []
    for comp in COMPONENTS:
        path = os.path.join(images_dir, comp, "Containerfile")
        if not os.path.exists(path):
            errors.append(f"{path}: missing")
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        errors += [f"{path}: {m}" for m in _lint(comp, text)]
    return errors


def _lint(comp, text):
    lines = [ln.strip() for ln in text.replace("\\\n", " ").splitlines()]
    froms = [ln for ln in lines if ln.upper().startswith("FROM ")]
    if not text.startswith("# SPDX-License-Identifier:"):
        yield "no SPDX line first"
    if len(froms) != 1 or not re.fullmatch(r"FROM debian:12(\.\d+)?(-slim)?(@sha256:[0-9a-f]{64})?", froms[0]):
        yield f"base must be one FROM debian:12[.N][-slim], got {froms}"
    if ":latest" in text:
        yield ":latest used"
    if re.search(r"^ADD\s+https?://", text, re.M):
        yield "ADD of a URL (unpinned download)"
    runs = [ln for ln in lines if ln.upper().startswith("RUN ")]
    if not any("apt-get install" in r and "--no-install-recommends" in r for r in runs):
        yield "no apt-get install --no-install-recommends"
    if not any("/var/lib/apt/lists" in r for r in runs):
        yield "apt lists not removed (rm -rf /var/lib/apt/lists/*)"
    pkg = "slioctl" if comp == "cli" else f"slio-{comp}"
    if not re.search(rf"^COPY\s+.*{re.escape(pkg)}_[^ ]*\.deb", text, re.M):
        yield f"the image does not COPY our {pkg}_*.deb"
    if comp == "controller" and not re.search(r"^USER\s+\d+", text, re.M):
        yield "the controller image must run as a numeric non-root USER"
    if comp != "controller" and not re.search(r"^# root:", text, re.M):
        yield "an image running as root must say why in a '# root:' comment"
