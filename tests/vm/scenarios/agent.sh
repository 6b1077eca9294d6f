# SPDX-License-Identifier: Apache-2.0
# vm-timeout: 900
# slio-agent with the lvm engine on the scenario's disk (two storage nodes, see guest/cluster.sh),
# driven through slio-controller's REST API (SQLite store) and exporting through slio-tgt to the
# guest's kernel NVMe/TCP host: thick and thin
# volumes, a thin snapshot and a clone of it carrying the data, expansion of a local volume and of
# an exported one (the connected host sees the new size), an export to node-2, whose host NQN is
# the guest's (discover, connect, ext4 + fio crc32c verify), the thin pool auto-extended past its
# threshold, the agent killed with SIGKILL in the middle of a create (after the restart the volume
# is ready, held by exactly one LV, and no orphan is reported), and everything deleted leaving no
# volume LV, bdev or subsystem behind. Every wait is bounded.
. /usr/lib/slio-vm/lib.sh
. /usr/lib/slio-vm/nvme-host.sh
. /usr/lib/slio-vm/cluster.sh
TRADDR=$(node_addr 1)
FIO_JOBS="4k:32:16 128k:32:32"
MIB=1048576

cleanup() {
    rc=$?
    trap - EXIT
    if [ $rc -ne 0 ]; then
        echo "---- cleanup after failure"
        cluster_logs
        umount /mnt/fio 2>/dev/null
        timeout 20 $NVME disconnect-all 2>/dev/null
        cluster_teardown
    fi
    exit $rc
}
trap cleanup EXIT

step binaries
cluster_check_binaries

step start
cluster_start

step thick-volume
vol_create thick1 "\"size\": $((64 * MIB))"
THICK=$VOL_ID
THICK_DEV=$VOL_DEV
[ "$(size_bytes "$THICK_DEV")" = $((64 * MIB)) ] || fail "thick1 is not 64 MiB"
lvs --noheadings -o lv_tags "$THICK_DEV" | grep -q "$THICK" || fail "thick1's LV lacks its uuid tag"
[ -z "$(lv_json_field "$THICK_DEV" pool_lv)" ] || fail "thick1 sits in a thin pool"
case $THICK_DEV in /dev/vgthick/*) ;; *) fail "thick1 is not on node-2's VG: $THICK_DEV" ;; esac

step thin-volume
vol_create thin1 "\"size\": $((256 * MIB)), \"thin\": true"
THIN=$VOL_ID
THIN_DEV=$VOL_DEV
[ "$(lv_json_field "$THIN_DEV" pool_lv)" = thin0 ] || fail "thin1 is not in thin pool thin0"
write_pattern "$VM_TMP/pattern" 8
run dd if="$VM_TMP/pattern" of="$THIN_DEV" bs=1M oflag=direct conv=fsync
SUM=$(sha256sum < "$VM_TMP/pattern" | cut -d' ' -f1) # tmpfs: no O_DIRECT for sha_of
[ "$(sha_of "$THIN_DEV" 8)" = "$SUM" ] || fail "thin1 does not read back what was written"

step snapshot-and-clone
api_ok POST /v1/snapshots "{\"name\": \"snap1\", \"volume\": \"$THIN\"}"
SNAP=$(jstr id)
wait_for 60 "snapshot snap1 ready" phase_is snapshots "$SNAP" ready
run dd if=/dev/zero of="$THIN_DEV" bs=1M count=8 oflag=direct conv=fsync # the source moves on
vol_create clone1 "\"size\": $((256 * MIB)), \"thin\": true, \"source\": {\"snapshot\": \"$SNAP\"}"
CLONE=$VOL_ID
CLONE_DEV=$VOL_DEV
[ "$(sha_of "$CLONE_DEV" 8)" = "$SUM" ] || fail "clone1 does not hold the snapshot's data"
[ "$(sha_of "$THIN_DEV" 8)" != "$SUM" ] || fail "thin1 did not keep its own new data"

step expand-local
api_ok POST "/v1/volumes/$THICK/expand" "{\"size\": $((128 * MIB))}"
wait_for 60 "thick1 expanded and ready" phase_is volumes "$THICK" ready
[ "$(size_bytes "$THICK_DEV")" = $((128 * MIB)) ] ||
    fail "thick1's LV has $(size_bytes "$THICK_DEV") bytes after the expansion"

step export
att_ready() { api GET "/v1/volumes/$THIN/attachments/node-2"; [ "$(ajstr phase)" = ready ]; }
api_ok POST "/v1/volumes/$THIN/attachments" "{\"node\": \"node-2\"}"
wait_for 60 "thin1's attachment to node-2 ready" att_ready
NQN=$(ajstr nqn)
[ "$NQN" = "nqn.2024-01.io.slite:vol:$THIN" ] || fail "unexpected NQN '$NQN'"
[ "$(ajstr traddr)" = "$TRADDR" ] || fail "attachment address is not $TRADDR: $API_OUT"
nvme_discover_expect "$NQN"
nvme_connect "$NQN"
[ "$(size_bytes "$NS_DEV")" = $((256 * MIB)) ] || fail "$NS_DEV is not 256 MiB"
[ "$(cat "/sys/block/${NS_DEV##*/}/uuid" 2>/dev/null || echo none)" = "$THIN" ] ||
    echo "note: namespace uuid $(cat "/sys/block/${NS_DEV##*/}/uuid" 2>/dev/null) (volume $THIN)"
[ "$(sha_of "$NS_DEV" 8)" = "$(sha_of "$THIN_DEV" 8)" ] || fail "the host reads other data than the LV"
fs_fio_round "$NS_DEV" ext4

step expand-exported
api_ok POST "/v1/volumes/$THIN/expand" "{\"size\": $((512 * MIB))}"
wait_for 60 "thin1 expanded and ready" phase_is volumes "$THIN" ready
wait_ns_size "$NS_DEV" $((512 * MIB)) 30
run mount -t ext4 "$NS_DEV" /mnt/fio
run resize2fs "$NS_DEV"
run umount /mnt/fio

step unexport
nvme_disconnect "$NQN"
echo "+ DELETE /v1/volumes/$THIN/attachments/node-2"
api DELETE "/v1/volumes/$THIN/attachments/node-2"
[ "$API_CODE" = 204 ] || fail "detach: HTTP $API_CODE $API_OUT"
no_subsystem() { tgt_json 1 nvmf_get_subsystems; ! echo "$RPC_OUT" | grep -q "$NQN"; }
wait_for 60 "the subsystem of thin1 to leave slio-tgt" no_subsystem
no_att() { api GET "/v1/volumes/$THIN/attachments/node-2"; [ "$API_CODE" = 404 ]; }
wait_for 60 "the attachment to go" no_att

step thin-autoextend
POOL_LV=vgthin/thin0
POOL_SIZE0=$(lvs --noheadings --units b --nosuffix -o lv_size "$POOL_LV" | tr -d ' ')
echo "thin pool: $POOL_SIZE0 bytes, data $(lv_json_field "$POOL_LV" data_percent)%"
vol_create fill "\"size\": $((1024 * MIB)), \"thin\": true"
FILL=$VOL_ID
FILL_DEV=$VOL_DEV
run dd if=/dev/urandom of="$FILL_DEV" bs=1M count=150 oflag=direct conv=fsync
pool_grew() {
    [ "$(lvs --noheadings --units b --nosuffix -o lv_size "$POOL_LV" | tr -d ' ')" -gt "$POOL_SIZE0" ]
}
wait_for 60 "the agent to extend thin pool thin0 past its threshold" pool_grew
echo "thin pool now $(lvs --noheadings --units b --nosuffix -o lv_size "$POOL_LV" | tr -d ' ')" \
    "bytes, data $(lv_json_field "$POOL_LV" data_percent)%"

step kill-during-create
# LVs named after volume $1 (snapshots and clones carry its uuid in their tags too)
lv_of_uuid_count() { lvs --noheadings -o lv_name vgthin vgthick 2>/dev/null | tr -d ' ' | grep -cx "slio-$1"; }
api_ok POST /v1/volumes "{\"name\": \"crash1\", \"size\": $((96 * MIB))}"
CRASH=$(jstr id)
creating_started() { grep -qx lvcreate /proc/[0-9]*/comm 2>/dev/null || [ "$(lv_of_uuid_count "$CRASH")" != 0 ]; }
wait_for 30 "the agent to start creating crash1" creating_started
run kill -KILL "$AGENT_PID2"
wait "$AGENT_PID2" 2>/dev/null || true
echo "agent killed; crash1 LVs now: $(lv_of_uuid_count "$CRASH"); phase: $(api GET "/v1/volumes/$CRASH"; jstr phase)"
AGENT_PID2=
start_agent 2
wait_for 60 "crash1 ready after the agent's restart" phase_is volumes "$CRASH" ready
[ "$(lv_of_uuid_count "$CRASH")" = 1 ] || fail "crash1 is held by $(lv_of_uuid_count "$CRASH") LVs"
for v in "$THICK" "$THIN" "$CLONE" "$FILL"; do
    phase_is volumes "$v" ready || fail "volume $v is no longer ready after the restart"
    [ "$(lv_of_uuid_count "$v")" = 1 ] || fail "volume $v lost its LV"
done
api_ok GET /v1/orphans
echo "$API_OUT"
echo "$API_OUT" | grep -q '"uuid"' && fail "orphans reported: $API_OUT"

step delete-all
for v in "$CLONE" "$CRASH" "$FILL" "$THICK"; do
    api_ok DELETE "/v1/volumes/$v"
done
api_ok DELETE "/v1/snapshots/$SNAP"
wait_for 60 "snapshot snap1 to go" gone snapshots "$SNAP"
api_ok DELETE "/v1/volumes/$THIN"
for v in "$CLONE" "$CRASH" "$FILL" "$THICK" "$THIN"; do
    wait_for 60 "volume $v to go" gone volumes "$v"
done
left=$(lvs --noheadings -o vg_name,lv_name vgthin vgthick | grep -vE '^ *vgthin +thin0 *$' || true)
[ -z "$left" ] || fail "LVs left behind: $left"
for n in 1 2; do
    tgt_json $n bdev_get_bdevs
    echo "$RPC_OUT" | grep -q 'slio-' && fail "bdevs left in node-$n's slio-tgt: $RPC_OUT"
    tgt_json $n nvmf_get_subsystems
    echo "$RPC_OUT" | grep -q 'io.slite:vol:' && fail "subsystems left in node-$n's slio-tgt: $RPC_OUT"
done
no_nvme_blockdev || fail "an nvme block device is left"

step stop
cluster_teardown
dmsetup ls | grep -q slio-half && fail "the disk halves are still mapped"
true
