# SPDX-License-Identifier: Apache-2.0
# Helpers for the scenarios that run slio-tgt themselves (tgt, auth). Sourced after lib.sh.
# The scenario sets RPC (slio-tgt-rpc), SOCK (the JSON-RPC socket), TGT_LOG and, once started,
# TGT_PID.

tgt_log_tail() {
    echo "---- last 40 lines of the slio-tgt log ($TGT_LOG)"
    tail -n 40 "$TGT_LOG" 2>/dev/null
}

# tgt_ready: the target is still alive and its socket is there (for wait_for after a start).
tgt_ready() {
    kill -0 "$TGT_PID" 2>/dev/null || { tgt_log_tail; fail "slio-tgt exited during startup"; }
    [ -S "$SOCK" ]
}

# tgt_stop_hard: cleanup after a failure: SIGTERM, two seconds of grace, then SIGKILL.
tgt_stop_hard() {
    [ -n "$TGT_PID" ] && kill -0 "$TGT_PID" 2>/dev/null || return 0
    kill -TERM "$TGT_PID"
    sleep 2
    kill -KILL "$TGT_PID" 2>/dev/null
    return 0
}

# rpc METHOD [JSON]: one JSON-RPC call; the result JSON is in RPC_OUT. A target that does not
# answer within 10 s fails the step with that reason rather than hanging the scenario.
rpc() {
    echo "+ slio-tgt-rpc $*"
    kill -0 "$TGT_PID" 2>/dev/null || fail "slio-tgt (pid $TGT_PID) is not running (before rpc $1)"
    _rc=0
    timeout -k 2 10 "$RPC" -s "$SOCK" "$@" > "$VM_TMP/rpc.out" 2> "$VM_TMP/rpc.err" || _rc=$?
    RPC_OUT=$(cat "$VM_TMP/rpc.out")
    [ -z "$RPC_OUT" ] || echo "$RPC_OUT"
    [ $_rc -ne 124 ] && [ $_rc -ne 137 ] || fail "rpc $1 got no answer within 10 s"
    [ $_rc -eq 0 ] || fail "rpc $1 failed (rc=$_rc): $(cat "$VM_TMP/rpc.err")"
}
