# SPDX-License-Identifier: Apache-2.0
"""What SPDK's own client does with a configuration, and what SPDK's
decoders accept, for tests/compat/spdk_rpc_compat.py and the tests that run
without SPDK: rpc.py's load_config algorithm (which refuses a whole file
naming one method the target does not list), and per release the members
SPDK's decoders take for every call slio-tgt's save_config writes.
"""

# SPDK's decoders, from its sources (lib/nvmf/nvmf_rpc.c, lib/bdev/bdev_rpc.c,
# module/bdev/{aio,malloc}/*_rpc.c), for every call slio-tgt's save_config
# writes: method -> accepted members; "a.b" names a nested object's members.
_NVMF = {
    "nvmf_create_transport": {"trtype", "max_queue_depth", "max_io_qpairs_per_ctrlr",
                              "in_capsule_data_size", "max_io_size", "io_unit_size",
                              "max_aq_depth", "num_shared_buffers", "buf_cache_size",
                              "dif_insert_or_strip", "abort_timeout_sec", "zcopy", "tgt_name",
                              "acceptor_poll_rate"},
    "nvmf_create_subsystem": {"nqn", "serial_number", "model_number", "tgt_name",
                              "max_namespaces", "allow_any_host", "ana_reporting", "min_cntlid",
                              "max_cntlid"},
    "nvmf_subsystem_add_listener": {"nqn", "listen_address", "tgt_name", "secure_channel"},
    "nvmf_subsystem_add_listener.listen_address": {"trtype", "adrfam", "traddr", "trsvcid"},
    "nvmf_subsystem_listener_set_ana_state": {"nqn", "listen_address", "ana_state", "tgt_name",
                                              "anagrpid"},
    "nvmf_subsystem_listener_set_ana_state.listen_address": {"trtype", "adrfam", "traddr",
                                                             "trsvcid"},
    "nvmf_subsystem_add_host": {"nqn", "host", "tgt_name"},
    "nvmf_subsystem_add_ns": {"nqn", "namespace", "tgt_name"},
    "nvmf_subsystem_add_ns.namespace": {"nsid", "bdev_name", "ptpl_file", "nguid", "eui64",
                                        "uuid", "anagrpid"},
    "bdev_set_qos_limit": {"name", "rw_ios_per_sec", "rw_mbytes_per_sec", "r_mbytes_per_sec",
                           "w_mbytes_per_sec"},
    "bdev_aio_create": {"name", "filename", "block_size", "readonly"},
    "bdev_malloc_create": {"name", "uuid", "num_blocks", "block_size", "physical_block_size",
                           "optimal_io_boundary", "md_size", "md_interleave", "dif_type",
                           "dif_is_head_of_md"},
}


def _plus(base, **added):
    out = {k: set(v) for k, v in base.items()}
    for k, v in added.items():
        out[k.replace("__", ".")] |= set(v)
    return out


SPDK_SCHEMA = {
    "v23.01": _NVMF,
    "v23.05": _NVMF,
    "v24.09": _plus(_NVMF, bdev_aio_create={"fallocate", "uuid"},
                    bdev_malloc_create={"dif_pi_format"},
                    nvmf_subsystem_add_listener={"ana_state", "sock_impl"},
                    nvmf_subsystem_add_ns__namespace={"no_auto_visible"},
                    nvmf_create_subsystem={"max_discard_size_kib", "max_write_zeroes_size_kib",
                                           "passthrough"}),
}
SPDK_SCHEMA["v25.09"] = _plus(SPDK_SCHEMA["v24.09"], nvmf_create_subsystem={"enable_nssr"},
                              nvmf_subsystem_add_ns__namespace={"hide_metadata"})


def schema_errors(doc, version):
    """Members of doc's calls that SPDK `version`'s decoders refuse (methods it
    has no entry for are SPDK's own option calls, written back as received)."""
    schema, errors = SPDK_SCHEMA[version], []
    for sub in doc["subsystems"]:
        for call in sub.get("config") or []:
            method, params = call["method"], call.get("params") or {}
            if method not in schema:
                continue
            for name, members in [("", params)] + [(k, v) for k, v in params.items()
                                                   if isinstance(v, dict)]:
                key = f"{method}.{name}" if name else method
                for m in set(members) - schema.get(key, set(members)):
                    errors.append(f"{method}: {name + '.' if name else ''}{m} is unknown to "
                                  f"SPDK {version}")
    return errors


def spdk_release(version):
    """spdk_get_version's result -> "vYY.MM" (slio-tgt's --spdk-compat)."""
    f = version["fields"]
    return f"v{f['major']:02d}.{f['minor']:02d}"


class RpcPyError(Exception):
    pass


def rpc_py_load_config(call, doc, include_aliases=False):
    """SPDK's rpc.py load_config (python/spdk/rpc/__init__.py, the same in
    v23.05 and v24.09), over call(method, params) -> result or raise. Returns
    the calls it skipped (none means everything was applied)."""
    subsystems = [dict(s, config=list(s["config"])) for s in doc["subsystems"] if s["config"]]
    allowed = call("rpc_get_methods", {"include_aliases": include_aliases})
    if not subsystems and "framework_start_init" in allowed:
        call("framework_start_init", None)
        return []
    for sub in subsystems:
        for elem in sub["config"]:
            if "method" not in elem or elem["method"] not in allowed:
                raise RpcPyError("Unknown method was included in the config file")
    while subsystems:
        allowed = call("rpc_get_methods", {"current": True, "include_aliases": include_aliases})
        found = False
        for sub in list(subsystems):
            for elem in list(sub["config"]):
                if "method" not in elem or elem["method"] not in allowed:
                    continue
                call(elem["method"], elem.get("params"))
                sub["config"].remove(elem)
                found = True
            if not sub["config"]:
                subsystems.remove(sub)
        if "framework_start_init" in allowed:
            call("framework_start_init", None)
            found = True
        if not found:
            break
    return [e["method"] for s in subsystems for e in s["config"]]
