# SPDX-License-Identifier: Apache-2.0
# A two-node SLiteIO cluster inside the guest, shared by the agent and csi scenarios: slio-controller
# (SQLite) on 127.0.0.1:8360; $VM_DISK split in two halves (dm linear), each the PV of one storage
# node's VG: node-1 (127.0.0.2) pools a thin pool (thin volumes), node-2 (127.0.0.3) a plain VG
# (thick volumes: the scheduler puts no thick volume in a thin pool). Each node has its own slio-tgt
# and slio-agent (lvm engine). node-2's host NQN is the guest's, so node-1's exports to node-2 are
# reachable by the guest's kernel host. Plus a REST client (curl) with JSON field helpers for
# busybox sh. Sourced after lib.sh and nvme-host.sh. Every wait is bounded; failures go through
# fail().
CTL=/usr/local/bin/slio-controller
AGENT=/usr/local/bin/slio-agent
TGT=/usr/local/bin/slio-tgt
RPC=/usr/local/bin/slio-tgt-rpc
CURL=/usr/local/bin/curl
CTL_URL=http://127.0.0.1:8360
GUEST_HOSTNQN=$(cat /etc/nvme/hostnqn)
CTL_PID=
AGENT_PID1= AGENT_PID2=
TGT_PID1= TGT_PID2=
CTL_LOG=$VM_TMP/controller.log
# per node N (1, 2): name, pool, VG, address, target socket
node_name() { echo "node-$1"; }
node_pool() { echo "p$1"; }
node_vg() { if [ "$1" = 1 ]; then echo vgthin; else echo vgthick; fi; }
node_addr() { echo "127.0.0.$(($1 + 1))"; }
tgt_sock() { echo "/run/slio-tgt-$1.sock"; }

cluster_check_binaries() {
    for _b in "$CTL" "$AGENT" "$TGT" "$RPC" "$CURL" "$@"; do
        [ -x "$_b" ] || fail "$(basename "$_b") is not in the guest: it is not built in" \
            "$SLIO_BUILD_HOST (build it: make)"
    done
}

cluster_logs() {
    for _l in "$CTL_LOG" "$VM_TMP"/agent-*.log "$VM_TMP"/slio-tgt-*.log; do
        echo "---- last 30 lines of $_l"
        tail -n 30 "$_l" 2>/dev/null
    done
}

# cluster_stop: SIGTERM to the daemons (agents first), SIGKILL after 5 s.
cluster_stop() {
    for _p in "$AGENT_PID1" "$AGENT_PID2" "$CTL_PID" "$TGT_PID1" "$TGT_PID2"; do
        [ -z "$_p" ] || kill -TERM "$_p" 2>/dev/null || true # (sh -e: a dead one is fine)
    done
    for _p in "$AGENT_PID1" "$AGENT_PID2" "$CTL_PID" "$TGT_PID1" "$TGT_PID2"; do
        [ -n "$_p" ] || continue
        _i=0
        while kill -0 "$_p" 2>/dev/null && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
        kill -KILL "$_p" 2>/dev/null || true
    done
    AGENT_PID1= AGENT_PID2= CTL_PID= TGT_PID1= TGT_PID2=
    return 0
}
# cluster_teardown: stop the daemons, deactivate both VGs, remove the disk halves.
cluster_teardown() {
    cluster_stop
    vgchange -q -an vgthin vgthick >/dev/null 2>&1 || true
    dmsetup remove slio-half1 2>/dev/null || true
    dmsetup remove slio-half2 2>/dev/null || true
    return 0
}

# ---------------------------------------------------------------- REST
# api METHOD PATH [BODY] [TOKEN]: one call; API_CODE = HTTP status, API_OUT = body on one line.
api() {
    _tok=${4:-$ADMIN_TOKEN}
    set -- "$1" "$2" "${3:-}"
    : > "$VM_TMP/api.out"
    if [ -n "$3" ]; then
        API_CODE=$($CURL -sS -m 20 -o "$VM_TMP/api.out" -w '%{http_code}' -X "$1" \
            -H "Authorization: Bearer $_tok" -H 'Content-Type: application/json' \
            --data-binary "$3" "$CTL_URL$2" 2> "$VM_TMP/api.err") || API_CODE=000
    else
        API_CODE=$($CURL -sS -m 20 -o "$VM_TMP/api.out" -w '%{http_code}' -X "$1" \
            -H "Authorization: Bearer $_tok" "$CTL_URL$2" 2> "$VM_TMP/api.err") || API_CODE=000
    fi
    API_OUT=$(tr -d '\n' < "$VM_TMP/api.out")
}
# api_ok METHOD PATH [BODY]: api, echoed, failing unless the status is 2xx.
api_ok() {
    echo "+ $1 $2 ${3:-}"
    api "$@"
    case $API_CODE in
    2??) echo "  -> $API_CODE" ;;
    *) fail "$1 $2: HTTP $API_CODE: $API_OUT $(cat "$VM_TMP/api.err")" ;;
    esac
}
# jstr FIELD / jnum FIELD: the first string / number FIELD of API_OUT, attachments left out (they
# carry their own phase and device).
_jflat() { printf '%s' "$API_OUT" | sed 's/"attachments": *\[[^]]*\]//'; }
jstr() { _jflat | grep -o "\"$1\": *\"[^\"]*\"" | head -n1 | sed 's/^[^:]*: *"//; s/"$//'; }
jnum() { _jflat | grep -o "\"$1\": *[0-9-][0-9]*" | head -n1 | sed 's/^[^:]*: *//'; }
# ajstr FIELD: the first string FIELD of API_OUT, attachments included.
ajstr() { printf '%s' "$API_OUT" | grep -o "\"$1\": *\"[^\"]*\"" | head -n1 | sed 's/^[^:]*: *"//; s/"$//'; }

# phase_is KIND ID PHASE: GET /v1/KIND/ID answers PHASE (fails at once on `failed`).
phase_is() {
    api GET "/v1/$1/$2"
    _ph=$(jstr phase)
    [ "$_ph" != failed ] || fail "$1 $2 failed: $(jstr message)"
    [ "$_ph" = "$3" ]
}
gone() { api GET "/v1/$1/$2"; [ "$API_CODE" = 404 ]; }

# vol_create NAME BODY_REST: POST /v1/volumes {"name": NAME, BODY_REST}, wait ready; VOL_ID, VOL_DEV.
vol_create() {
    api_ok POST /v1/volumes "{\"name\": \"$1\", $2}"
    VOL_ID=$(jstr id)
    [ -n "$VOL_ID" ] || fail "no id in the answer: $API_OUT"
    wait_for 60 "volume $1 ($VOL_ID) ready" phase_is volumes "$VOL_ID" ready
    VOL_DEV=$(jstr device)
    [ -b "$VOL_DEV" ] || fail "volume $1: device '$VOL_DEV' is not a block device"
    echo "volume $1 = $VOL_ID on $VOL_DEV ($(size_bytes "$VOL_DEV") bytes)"
}

# ---------------------------------------------------------------- daemons
write_cluster_config() {
    ADMIN_TOKEN=admin-token-$(cat /proc/sys/kernel/random/uuid)
    AGENT_TOKEN=agent-token-$(cat /proc/sys/kernel/random/uuid)
    CSI_TOKEN=csi-token-$(cat /proc/sys/kernel/random/uuid)
    echo "$ADMIN_TOKEN" > "$VM_TMP/admin.token"
    echo "$AGENT_TOKEN" > "$VM_TMP/agent.token"
    echo "$CSI_TOKEN" > "$VM_TMP/csi.token"
    cat > "$VM_TMP/controller.yaml" <<EOF
listen: {address: 127.0.0.1, port: 8360}
store: {backend: sqlite, path: $VM_TMP/controller.db}
tokens:
  admin: $VM_TMP/admin.token
  agent: $VM_TMP/agent.token
  csi: $VM_TMP/csi.token
heartbeat_interval: 1s
unknown_after: 30s
offline_after: 5m
EOF
    for _n in 1 2; do
        if [ $_n = 1 ]; then # its own host NQN; a thin pool
            _hn="host_nqn: nqn.2014-08.org.nvmexpress:uuid:$(cat /proc/sys/kernel/random/uuid)"
            _thin="thin:
      pool: thin0
      size: 256Mi
      overprovision: 20
      autoextend: {threshold_percent: 60, step: 128Mi, ceiling: 2Gi}"
        else # the guest's host NQN (from /etc/nvme/hostnqn); thick only
            _hn="hostnqn_dir: /etc/nvme"
            _thin=""
        fi
        cat > "$VM_TMP/agent-$_n.yaml" <<EOF
node:
  name: $(node_name $_n)
  $_hn
listen: {address: $(node_addr $_n), port: 9361}
export: {traddr: $(node_addr $_n), trsvcid: 4420}
controller:
  urls: ["$CTL_URL"]
  token_file: $VM_TMP/agent.token
  long_poll: 5s
  retry: 500ms
target: {kind: slio-tgt, socket: $(tgt_sock $_n)}
reconcile:
  resync: 5s
  autoextend_interval: 1s
pool:
  name: $(node_pool $_n)
  engine: lvm
  lvm:
    vg: $(node_vg $_n)
    devices: [/dev/mapper/slio-half$_n]
    command_timeout: 2m
    $_thin
EOF
    done
}

# split_disk: $VM_DISK as two dm linear halves, /dev/mapper/slio-half1 and slio-half2. The first
# starts 1 MiB in: a PV label at the disk's own start would show LVM the same PV twice.
split_disk() {
    _sz=$(/usr/sbin/blockdev --getsz "$VM_DISK")
    _h=$((_sz / 2))
    echo "0 $((_h - 2048)) linear $VM_DISK 2048" | dmsetup create slio-half1 ||
        fail "dmsetup create slio-half1"
    echo "0 $_h linear $VM_DISK $_h" | dmsetup create slio-half2 || fail "dmsetup create slio-half2"
    dmsetup mknodes >/dev/null 2>&1
    [ -b /dev/mapper/slio-half1 ] && [ -b /dev/mapper/slio-half2 ] || fail "no /dev/mapper/slio-half*"
}

tgt_pid() { eval "echo \$TGT_PID$1"; }
agent_pid() { eval "echo \$AGENT_PID$1"; }
tgt_ready() {
    kill -0 "$(tgt_pid "$1")" 2>/dev/null || { cluster_logs; fail "slio-tgt $1 exited during startup"; }
    [ -S "$(tgt_sock "$1")" ]
}
ctl_ready() {
    kill -0 "$CTL_PID" 2>/dev/null || { cluster_logs; fail "slio-controller exited"; }
    api GET /v1/health
    [ "$API_CODE" = 200 ]
}
node_registered() {
    kill -0 "$(agent_pid "$1")" 2>/dev/null || { cluster_logs; fail "slio-agent $1 exited"; }
    api GET "/v1/nodes/$(node_name "$1")"
    [ "$API_CODE" = 200 ] && echo "$API_OUT" | grep -q "\"$(node_pool "$1")\""
}
agent_healthy() {
    kill -0 "$(agent_pid "$1")" 2>/dev/null || { cluster_logs; fail "slio-agent $1 exited"; }
    $CURL -sS -m 5 "http://$(node_addr "$1"):9361/healthz" 2>/dev/null | grep -q '"registered": *true'
}

# start_tgt N: slio-tgt of node N, waiting for its RPC socket.
start_tgt() {
    rm -f "$(tgt_sock "$1")"
    echo "+ slio-tgt -r $(tgt_sock "$1") &"
    "$TGT" -r "$(tgt_sock "$1")" >> "$VM_TMP/slio-tgt-$1.log" 2>&1 &
    eval "TGT_PID$1=$!"
    wait_for 20 "slio-tgt $1 to listen on $(tgt_sock "$1")" tgt_ready "$1"
}
start_controller() {
    echo "+ slio-controller -c $VM_TMP/controller.yaml &"
    "$CTL" -c "$VM_TMP/controller.yaml" >> "$CTL_LOG" 2>&1 &
    CTL_PID=$!
    wait_for 30 "slio-controller to answer /v1/health" ctl_ready
}
# start_agent N: slio-agent of node N, waiting until it registered.
start_agent() {
    echo "+ slio-agent -c $VM_TMP/agent-$1.yaml &"
    "$AGENT" -c "$VM_TMP/agent-$1.yaml" >> "$VM_TMP/agent-$1.log" 2>&1 &
    eval "AGENT_PID$1=$!"
    wait_for 90 "slio-agent $1 to register node $(node_name "$1")" node_registered "$1"
    wait_for 30 "slio-agent $1 /healthz registered" agent_healthy "$1"
}
cluster_start() {
    write_cluster_config
    split_disk
    run "$AGENT" -c "$VM_TMP/agent-1.yaml" --check-config
    run "$AGENT" -c "$VM_TMP/agent-2.yaml" --check-config
    start_tgt 1
    start_tgt 2
    start_controller
    start_agent 1
    start_agent 2
}

# tgt_json N METHOD: node N's target's answer to METHOD in RPC_OUT (one line).
tgt_json() {
    RPC_OUT=$(timeout -k 2 10 "$RPC" -s "$(tgt_sock "$1")" "$2" 2>&1 | tr -d '\n') ||
        fail "slio-tgt-rpc $2 (node $1) failed: $RPC_OUT"
}
