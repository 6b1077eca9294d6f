# SPDX-License-Identifier: Apache-2.0
"""docs/configuration.md cannot drift from the code.

What the code accepts is read from the code itself, never from a list kept
here:

* command-line options: every `struct option` table in the sources (each file
  mapped to its binary below; a new table in an unmapped file fails) AND the
  `--help` text of the built binary (every long option it prints);
* configuration fields: the `struct slio_json_field` tables of the config
  decoders (the one decoder every config goes through), read from the C
  preprocessor's output of each file with its exact flags from the build's
  compile_commands.json, so macros such as controller/config.c's OBJ() and
  TOKEN_FILE() are expanded as the compiler sees them; nested tables are
  followed through `.fields = table` (and through the few links a
  SLIO_JSON_CUSTOM/VALUE field makes by hand, listed in CUSTOM_LINKS); an
  enum field's names (`.names = x`) must each appear in its docs row;
* StorageClass / VolumeSnapshotClass parameters: the `struct param` tables of
  csi/controller/params.c, with the values of each enum parameter.

Each failure names the item, where the code has it, and the docs section
that must gain (or lose) the line, so the fix is one table row.
"""
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD, REPO, binary

DOC = REPO / "docs" / "configuration.md"

# binary (relative to the build dir) -> (docs section, source files of its option table)
BINARIES = {
    "agent/slio-agent": ("slio-agent options", ["agent/main.c"]),
    "controller/slio-controller": ("slio-controller options", ["controller/app.c"]),
    "tgt/slio-tgt": ("slio-tgt options", ["tgt/app.c"]),
    "tgt/slio-tgt-rpc": ("slio-tgt-rpc options", ["tgt/rpc_cli.c"]),
    "csi/slio-csi": ("slio-csi options", ["csi/app.c"]),
    "cli/slioctl": ("slioctl options", ["cli/commands.c"]),
}
# struct option tables that are not an operator's binary (the reason is the value).
NOT_OPERATOR_BINARIES = {
    "perf/cli.c": "slio-perf: the benchmark and test host, documented by its --help",
    "agent/engine/tool.c": "slio-engine-tool: a developer tool, not installed",
}
OPTION_DIRS = ["agent", "controller", "tgt", "csi", "cli", "perf"]

# config root -> (docs section, root table (file, name), files whose tables belong to it)
CONFIGS = {
    "agent": ("slio-agent configuration file", ("agent/config.c", "config_fields"),
              ["agent/config.c", "agent/engine/pool_config.c"]),
    "controller": ("slio-controller configuration file",
                   ("controller/config.c", "config_fields"),
                   ["controller/config.c", "controller/sched/config.c"]),
    "slioctl": ("slioctl configuration file", ("cli/config.c", "file_fields"),
                ["cli/config.c"]),
}
# Fields decoded by hand (SLIO_JSON_CUSTOM / SLIO_JSON_VALUE) whose elements or
# value go through another table: (config, field path) -> (file, table, path suffix).
CUSTOM_LINKS = {
    ("agent", "pool.lvm.loop_files"): ("agent/engine/pool_config.c", "loop_file_fields", "[]"),
    ("controller", "scheduler"): ("controller/sched/config.c", "config_fields", ""),
    ("controller", "scheduler.scorers"): ("controller/sched/config.c", "scorer_fields", "[]"),
}
# Tables in those files that are another document's root, not a second config.
OTHER_ROOTS = {
    ("agent/engine/pool_config.c", "pool_doc_fields"):
        "slio-engine-tool's file: the same pool: section as the agent's",
}

PARAM_TABLES = {
    "volume_params": "StorageClass parameters",
    "snapshot_params": "VolumeSnapshotClass parameters",
}
PARAMS_FILE = "csi/controller/params.c"


# ---------------------------------------------------------------- the docs


def doc_sections():
    """{heading text: [table rows as lists of cells]} for every ### heading."""
    if not DOC.exists():
        pytest.fail(f"{DOC} is missing", pytrace=False)
    sections, rows = {}, None
    for line in DOC.read_text().splitlines():
        m = re.match(r"^#{2,4} (.+?)\s*$", line)
        if m:
            rows = sections.setdefault(m.group(1), [])
            continue
        if rows is not None and line.startswith("|") and not re.match(r"^\|[\s:|-]+\|?$", line):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return sections


def section(sections, name):
    if name not in sections:
        pytest.fail(f"docs/configuration.md has no section '### {name}'", pytrace=False)
    return sections[name]


def documented_options(rows):
    """{long option: row text} from the first cell of each row."""
    out = {}
    for r in rows:
        for opt in re.findall(r"--([a-z0-9][a-z0-9-]*)", r[0]):
            out[opt] = " | ".join(r)
    return out


def documented_keys(rows):
    """{key: row text}: the first backticked word of the first cell."""
    out = {}
    for r in rows:
        m = re.match(r"^`([^`]+)`", r[0])
        if m:
            out[m.group(1)] = " | ".join(r)
    return out


# ---------------------------------------------------------------- the code


def compile_commands():
    path = BUILD / "compile_commands.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `meson setup {BUILD}`", pytrace=False)
    return json.loads(path.read_text())


_PP_CACHE = {}


def preprocessed(rel):
    """The file as the compiler sees it (its own flags), comments gone, macros expanded."""
    if rel in _PP_CACHE:
        return _PP_CACHE[rel]
    target = (REPO / rel).resolve()
    for e in compile_commands():
        src = (Path(e["directory"]) / e["file"]).resolve()
        if src != target:
            continue
        argv = shlex.split(e["command"]) if "command" in e else list(e["arguments"])
        out, skip = [], False
        for a in argv:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MQ", "-MF", "-MT"):
                skip = True
                continue
            if a in ("-c", "-MD", "-MMD") or a.startswith("-fdiagnostics-color"):
                continue
            out.append(a)
        res = subprocess.run(out + ["-E", "-P"], cwd=e["directory"], capture_output=True,
                             text=True, timeout=120)
        assert res.returncode == 0, f"preprocessing {rel}: {res.stderr[-2000:]}"
        _PP_CACHE[rel] = res.stdout
        return res.stdout
    pytest.fail(f"{rel} is not in {BUILD}/compile_commands.json (not built?)", pytrace=False)


def braced(text, start):
    """text[start] == '{': the text up to its matching '}'."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    raise AssertionError("unbalanced braces")


def top_level_entries(body):
    """The {...} entries of an array initialiser's body."""
    out, i = [], 0
    while True:
        j = body.find("{", i)
        if j < 0:
            return out
        inner = braced(body, j)
        out.append(inner)
        i = j + len(inner) + 2


def arrays(text, elem_type):
    """{name: body} of every `<elem_type> name[...] = {...};` in the text."""
    out = {}
    pat = re.compile(r"\b" + re.escape(elem_type) + r"\s+(\w+)\s*\[[^\]]*\]\s*=\s*\{")
    for m in pat.finditer(text):
        out[m.group(1)] = braced(text, m.end() - 1)
    return out


def strings(s):
    """The string literals of s, adjacent ones joined as C does."""
    out, cur, last_end = [], None, -1
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"', s):
        if cur is not None and s[last_end:m.start()].strip() == "":
            cur += m.group(1)
            out[-1] = cur
        else:
            cur = m.group(1)
            out.append(cur)
        last_end = m.end()
    return out


def split_commas(s):
    """s split at the commas outside parentheses and string literals."""
    out, depth, cur, in_str, esc = [], 0, "", False, False
    for c in s:
        if in_str:
            in_str = not (c == '"' and not esc)
            esc = c == "\\" and not esc
        elif c == '"':
            in_str = True
        elif c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        cur += c
    out.append(cur)
    return out


def name_lists(text):
    """{name: [strings]} of every `const char *const name[] = {...}`."""
    out = {}
    for m in re.finditer(r"const\s+char\s*\*\s*const\s+(\w+)\s*\[[^\]]*\]\s*=\s*\{", text):
        out[m.group(1)] = strings(braced(text, m.end() - 1))
    return out


def json_tables(rel):
    """{table: [(json name, type, sub-table or None, enum names or None)]}."""
    text = preprocessed(rel)
    names = name_lists(text)
    tables = {}
    for tname, body in arrays(text, "struct slio_json_field").items():
        fields = []
        for entry in top_level_entries(body):
            m = re.search(r'\.name\s*=\s*\(?\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)?', entry)
            assert m, f"{rel}: {tname}: an entry without .name: {entry[:200]}"
            jname = "".join(strings(m.group(1)))
            t = re.search(r"\.type\s*=\s*\(?\s*(SLIO_JSON_\w+)", entry).group(1)
            sub = re.search(r"\.fields\s*=\s*\(?\s*(\w+)", entry)
            en = re.search(r"\.names\s*=\s*\(?\s*(\w+)", entry)
            fields.append((jname, t, sub.group(1) if sub else None,
                           names.get(en.group(1)) if en else None))
        tables[tname] = fields
    return tables


def table_definers(table):
    """Source files that define `struct slio_json_field <table>[`."""
    pat = re.compile(r"slio_json_field\s+" + re.escape(table) + r"\s*\[")
    return [str(p.relative_to(REPO)) for d in ("libslio", "agent", "controller", "csi", "cli",
                                                "tgt")
            for p in sorted((REPO / d).rglob("*.c")) if pat.search(p.read_text())]


def config_fields(cfg):
    """{dotted path: (type, enum names, where)} of a config, and the tables never reached."""
    _, (root_file, root_table), files = CONFIGS[cfg]
    per_file = {f: json_tables(f) for f in files}
    reached, out = set(), {}

    def find(table, prefer):
        if prefer not in per_file:
            per_file[prefer] = json_tables(prefer)
        if table in per_file[prefer]:
            return prefer
        owners = [f for f in per_file if table in per_file[f]]
        if not owners:  # a table shared from another file (e.g. libslio): look it up
            owners = [f for f in table_definers(table) if table in per_file.setdefault(
                f, json_tables(f))]
        assert owners, (f"{cfg} config: table {table} (named by a .fields of {prefer}) is "
                        f"defined in no C source: add its file to CONFIGS['{cfg}'] in "
                        f"{Path(__file__).name}")
        return owners[0]

    def walk(f, table, prefix):
        reached.add((f, table))
        for jname, t, sub, enum in per_file[f][table]:
            path = prefix + jname
            out[path] = (t, enum, f"{f}: {table}")
            if sub:
                walk(find(sub, f), sub, path + ".")
            link = CUSTOM_LINKS.get((cfg, path))
            if link:
                walk(find(link[1], link[0]), link[1], path + link[2] + ".")

    walk(root_file, root_table, "")
    unreached = [(f, t) for f in files for t in per_file[f]
                 if (f, t) not in reached and (f, t) not in OTHER_ROOTS]
    return out, unreached


def source_options(rel):
    """Long option names of every `struct option` table in a file."""
    text = (REPO / rel).read_text()
    out = []
    for m in re.finditer(r"struct\s+option\s+\w+\s*\[\s*\]\s*=\s*\{", text):
        body = braced(text, m.end() - 1)
        out += re.findall(r'\{\s*"([a-z0-9][a-z0-9-]*)"\s*,', body)
    return out


def help_text(argv):
    res = subprocess.run(argv + ["--help"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, f"{argv} --help exited {res.returncode}: {res.stderr}"
    return res.stdout


def help_options(exe):
    """Long options --help prints; for slioctl, with every command's own --help."""
    text = help_text([exe])
    if Path(exe).name == "slioctl":
        for line in text.splitlines():
            m = re.match(r"^\s+slioctl\s+(.*)$", line)
            if not m:
                continue
            words = []
            for w in m.group(1).split():
                if not re.fullmatch(r"[a-z]+", w):
                    break
                words.append(w)
            text += help_text([exe] + words)
    return set(re.findall(r"(?<![\w-])--([a-z0-9][a-z0-9-]*)", text))


# ---------------------------------------------------------------- the tests


def test_every_option_table_belongs_to_a_documented_binary():
    mapped = {f for _, files in BINARIES.values() for f in files}
    stray = []
    for d in OPTION_DIRS:
        for path in sorted((REPO / d).rglob("*.c")):
            rel = str(path.relative_to(REPO))
            if source_options(rel) and rel not in mapped and rel not in NOT_OPERATOR_BINARIES:
                stray.append(rel)
    assert not stray, (f"struct option tables in files this test does not know: {stray}; "
                       "add each to BINARIES (with a docs/configuration.md section) or to "
                       "NOT_OPERATOR_BINARIES with the reason")


@pytest.mark.parametrize("rel", sorted(BINARIES))
def test_options_documented_and_in_help(rel):
    sec, files = BINARIES[rel]
    exe = binary(rel)
    name = Path(rel).name
    code = {o: f for f in files for o in source_options(f)}
    assert code, f"no struct option table found in {files}"
    helped = help_options(exe)
    documented = documented_options(section(doc_sections(), sec))
    problems = []
    for opt, f in sorted(code.items()):
        if opt not in documented:
            problems.append(f"--{opt} ({f}) is not documented: add a row for `--{opt}` "
                            f"to '### {sec}' in docs/configuration.md")
        if opt not in helped and opt != "help":  # a usage need not name itself
            problems.append(f"--{opt} ({f}) is missing from `{name} --help`")
    for opt in sorted(helped - set(code)):
        problems.append(f"`{name} --help` prints --{opt}, which no option table in {files} has")
    for opt in sorted(set(documented) - set(code)):
        problems.append(f"docs/configuration.md '### {sec}' documents --{opt}, which "
                        f"{name} does not have ({files}): remove the row")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("cfg", sorted(CONFIGS))
def test_config_fields_documented(cfg):
    sec = CONFIGS[cfg][0]
    fields, unreached = config_fields(cfg)
    assert len(fields) >= 2, f"{cfg}: only {sorted(fields)} found: the extractor is broken"
    documented = documented_keys(section(doc_sections(), sec))
    problems = [f"table {t} in {f} is not reached from the {cfg} config's root: add the link "
                f"to CUSTOM_LINKS (or OTHER_ROOTS) in {Path(__file__).name}"
                for f, t in unreached]
    for path, (t, enum, where) in sorted(fields.items()):
        if path not in documented:
            problems.append(f"{cfg} config field '{path}' ({t}, {where}) is not documented: "
                            f"add a row for `{path}` to '### {sec}' in docs/configuration.md")
            continue
        for value in enum or []:
            if f"`{value}`" not in documented[path]:
                problems.append(f"{cfg} config field '{path}': value `{value}` ({where}) "
                                f"is not in its docs row")
    for path in sorted(set(documented) - set(fields)):
        problems.append(f"docs/configuration.md '### {sec}' documents '{path}', which the "
                        f"{cfg} config decoder does not have: remove the row")
    assert not problems, "\n".join(problems)


def storage_params():
    """{table: {key: enum values or None}} from csi/controller/params.c."""
    text = preprocessed(PARAMS_FILE)
    names = name_lists(text)
    found = arrays(text, "struct param")
    out = {}
    for table in PARAM_TABLES:
        assert table in found, f"{PARAMS_FILE}: no struct param {table}[] (renamed?)"
        keys = {}
        for entry in top_level_entries(found[table]):
            cells = split_commas(entry)
            assert len(cells) >= 4 and strings(cells[0]), (
                f"{PARAMS_FILE}: {table}: cannot read entry {entry[:200]}")
            key = "".join(strings(cells[0]))
            keys[key] = names.get(cells[3].strip()) if cells[1].strip() == "K_ENUM" else None
        out[table] = keys
    tables = set(found) - set(PARAM_TABLES)
    assert not tables, (f"{PARAMS_FILE} has parameter tables {sorted(tables)} this test does "
                        "not know: add each to PARAM_TABLES with its docs section")
    return out


# StorageClass keys the kubelet and the CSI sidecars consume (our decoder ignores every
# csi.storage.k8s.io/ key): documented for users, never in volume_params.
SIDECAR_PARAMS = {"csi.storage.k8s.io/node-stage-secret-name",
                  "csi.storage.k8s.io/node-stage-secret-namespace"}


def test_storage_class_parameters_documented():
    sections = doc_sections()
    problems = []
    for table, keys in storage_params().items():
        sec = PARAM_TABLES[table]
        documented = documented_keys(section(sections, sec))
        for key, enum in sorted(keys.items()):
            if key not in documented:
                problems.append(f"parameter '{key}' ({PARAMS_FILE}: {table}) is not documented: "
                                f"add a row for `{key}` to '### {sec}' in docs/configuration.md")
                continue
            for value in enum or []:
                if f"`{value}`" not in documented[key]:
                    problems.append(f"parameter '{key}': value `{value}` is not in its docs row")
        for key in sorted(set(documented) - set(keys)):
            if key in SIDECAR_PARAMS:
                continue  # read by the kubelet/sidecars, ignored by our decoder (documented so)
            problems.append(f"docs/configuration.md '### {sec}' documents '{key}', which "
                            f"{PARAMS_FILE} ({table}) does not accept: remove the row")
    assert not problems, "\n".join(problems)


def test_shipped_storage_classes_use_documented_parameters():
    """Every parameter the manifests set is a documented one (the docs are what users copy)."""
    sections = doc_sections()
    documented = set(documented_keys(section(sections, "StorageClass parameters")))
    documented |= set(documented_keys(section(sections, "VolumeSnapshotClass parameters")))
    used = set()
    for path in (REPO / "deploy" / "k8s").rglob("*.yaml"):
        text = path.read_text()
        for doc in text.split("\n---"):
            if re.search(r"^kind:\s*(StorageClass|VolumeSnapshotClass)\s*$", doc, re.M):
                m = re.search(r"^parameters:\s*\n((?:[ \t]+.*\n?)*)", doc, re.M)
                if m:
                    used |= set(re.findall(r"^[ \t]+([\w./-]+):", m.group(1), re.M))
    assert used, "no StorageClass parameters found under deploy/k8s (moved?)"
    missing = sorted(used - documented)
    assert not missing, f"deploy/k8s sets parameters docs/configuration.md lacks: {missing}"


def test_extractor_sees_what_the_decoder_refuses(tmp_path):
    """The extraction is the decoder's truth: a field it lists is accepted by
    slio-agent --check-config, and a made-up one is refused by name."""
    exe = binary("agent/slio-agent")
    fields, _ = config_fields("agent")
    assert "reconcile.discard_on_delete" in fields and "pool.lvm.thin.autoextend.step" in fields
    base = ("node: {name: n1}\nexport: {traddr: 127.0.0.1}\n"
            "controller: {urls: [\"http://127.0.0.1:1\"]}\n"
            f"pool: {{name: p1, engine: file, file: {{dir: {tmp_path}, capacity: 1Gi}}}}\n")
    good = tmp_path / "good.yaml"
    good.write_text(base + "reconcile: {discard_on_delete: true}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text(base + "reconcile: {discard_on_delete: true, not_a_field: 1}\n")
    ok = subprocess.run([exe, "-c", str(good), "--check-config"], capture_output=True, text=True,
                        timeout=30)
    assert ok.returncode == 0, ok.stderr
    ko = subprocess.run([exe, "-c", str(bad), "--check-config"], capture_output=True, text=True,
                        timeout=30)
    assert ko.returncode == 1 and "not_a_field" in ko.stderr, ko.stderr


# ------------------------------------------- commands quoted in the operator docs

OPERATOR_DOCS = ["quickstart.md", "operations.md", "troubleshooting.md", "tuning.md",
                 "configuration.md"]
# binary as written in the docs -> (build path, files of its option table)
DOC_BINARIES = {
    "slio-tgt-rpc": "tgt/slio-tgt-rpc", "slio-tgt": "tgt/slio-tgt",
    "slio-agent": "agent/slio-agent", "slio-controller": "controller/slio-controller",
    "slio-csi": "csi/slio-csi", "slioctl": "cli/slioctl", "kubectl sliteio": "cli/slioctl",
}
CMD_RE = re.compile(r"(?<![\w/=.-])(?:build/\w+/|/usr/s?bin/)?(" + "|".join(
    re.escape(b) for b in sorted(DOC_BINARIES, key=len, reverse=True)) + r")(?![\w/.-])([^`|;#&)]*)")


def doc_snippets(name):
    """Every line of a fenced block (continuations joined) and every inline code span."""
    text = (REPO / "docs" / name).read_text()
    out, fence = [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = None if fence is not None else []
            continue
        if fence is not None:
            if out and fence and fence[-1]:
                out[-1] = out[-1] + " " + line.strip()
            else:
                out.append(line.strip())
            fence.append(line.rstrip().endswith("\\"))
            if fence[-1]:
                out[-1] = out[-1].rstrip("\\ ")
        else:
            out += re.findall(r"`([^`]+)`", line)
    return out


def option_arity(files):
    """{'--name' or '-c': takes an argument} from struct option tables."""
    out = {}
    for f in files:
        text = (REPO / f).read_text()
        for m in re.finditer(r"struct\s+option\s+\w+\s*\[\s*\]\s*=\s*\{", text):
            body = braced(text, m.end() - 1)
            for o in re.finditer(r'\{\s*"([a-z0-9-]+)"\s*,\s*(\w+)\s*,\s*[^,]+,\s*([^}]+)\}', body):
                arg = o.group(2) != "no_argument"
                out["--" + o.group(1)] = arg
                short = re.fullmatch(r"\s*'(.)'\s*", o.group(3))
                if short:
                    out["-" + short.group(1)] = arg
    return out


def slioctl_grammar(exe):
    """The command patterns of `slioctl --help`, as token lists."""
    return [line.split()[1:] for line in help_text([exe]).splitlines()
            if line.startswith("  slioctl ")]


def pattern_accepts(pattern, words):
    for p, w in zip(pattern, words):
        if p.startswith(("[", "-")) or p == "...":
            return True
        if re.search(r"[A-Z]", p.split("[")[0]):  # a placeholder: NAME, ID|NAME, NODE/POOL
            continue
        allowed = set(p.split("[")[0].split("|"))
        if not set(w.split(",")) <= allowed:
            return False
    return True


def test_commands_quoted_in_operator_docs_exist():
    """Every `slioctl ...` command and every --option given to one of our
    binaries in the operator docs is one the built binary has."""
    exe = binary("cli/slioctl")
    grammar = slioctl_grammar(exe)
    assert len(grammar) >= 10, f"slioctl --help lists {len(grammar)} commands: parser broken"
    problems, seen = [], 0
    for doc in OPERATOR_DOCS:
        for snippet in doc_snippets(doc):
            for m in CMD_RE.finditer(snippet):
                name, rest = m.group(1), m.group(2)
                rel = DOC_BINARIES[name]
                files = BINARIES[rel][1]
                arity = option_arity(files)
                tokens, words, skip = rest.split(), [], False
                for t in tokens:
                    if skip:
                        skip = False
                        continue
                    if t.startswith("-") and len(t) > 1:
                        opt = t.split("=")[0]
                        if opt.startswith("--") and opt not in arity:
                            problems.append(f"docs/{doc}: `{name}{rest.rstrip()}`: {name} has "
                                            f"no option {opt} ({files})")
                        skip = arity.get(opt, False) and "=" not in t
                        continue
                    words.append(t)
                seen += 1
                if rel == "cli/slioctl" and words and re.fullmatch(r"[a-z]+", words[0]):
                    if not any(pattern_accepts(p, words) for p in grammar):
                        problems.append(f"docs/{doc}: `{name}{rest.rstrip()}`: no such slioctl "
                                        f"command (slioctl --help lists {len(grammar)})")
    assert seen >= 20, f"only {seen} commands found in the operator docs: extractor broken"
    assert not problems, "\n".join(problems)


def test_metrics_quoted_in_operator_docs_exist():
    """Every sliteio_* metric name the operator docs tell people to watch is
    one the agent or the controller exports."""
    sources = "".join(p.read_text() for d in ("agent", "controller", "libslio")
                      for p in (REPO / d).rglob("*.c"))
    problems = []
    for doc in OPERATOR_DOCS:
        for name in sorted(set(re.findall(r"\bsliteio_[a-z_]*[a-z]", (REPO / "docs" / doc)
                                          .read_text()))):
            base = re.sub(r"_(total|bucket|sum|count)$", "", name)
            if f'"{base}' not in sources and f'"{name}' not in sources:
                problems.append(f"docs/{doc}: metric {name} is exported by no source in "
                                "agent/, controller/, libslio/")
    assert not problems, "\n".join(problems)
