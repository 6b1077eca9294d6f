# SPDX-License-Identifier: Apache-2.0
# vm-timeout: 900
# slio-csi's node service on node-2 of the guest's two-node cluster (guest/cluster.sh), driven with
# slio-csi-call: NodeStage / NodePublish / NodeUnpublish / NodeUnstage of a local LVM volume (node-2's
# own thick LV) and of a remote one (node-1's thin LV through slio-tgt and the kernel NVMe/TCP host),
# in filesystem (ext4, xfs) and block modes; online expansion of the remote volume seen by its
# mounted filesystem (ControllerExpand through REST, then NodeExpandVolume); NodeGetVolumeStats and
# the volume condition turning abnormal after node-1's slio-tgt is killed and normal again once it
# is back and re-exported by its agent; no nvme controller, mount or export left at the end.
. /usr/lib/slio-vm/lib.sh
. /usr/lib/slio-vm/nvme-host.sh
. /usr/lib/slio-vm/cluster.sh
CSI=/usr/local/bin/slio-csi
CALL=/usr/local/bin/slio-csi-call
CSI_SOCK=/run/csi.sock
CSI_LOG=$VM_TMP/slio-csi.log
CSI_PID=
MIB=1048576
K=$VM_TMP/kubelet

cleanup() {
    rc=$?
    trap - EXIT
    if [ $rc -ne 0 ]; then
        echo "---- cleanup after failure"
        echo "---- last 40 lines of $CSI_LOG"
        tail -n 40 "$CSI_LOG" 2>/dev/null
        cluster_logs
        for m in $(awk -v k="$K" 'index($2, k) == 1 {print $2}' /proc/mounts | sort -r); do
            umount -l "$m"
        done
        timeout 20 $NVME disconnect-all 2>/dev/null
        [ -z "$CSI_PID" ] || kill -KILL "$CSI_PID" 2>/dev/null || true
        cluster_teardown
    fi
    exit $rc
}
trap cleanup EXIT

# csi METHOD key=value...: one Node RPC; its answer in CALL_OUT (key=value lines).
csi() {
    echo "+ csi $*"
    _rc=0
    CALL_OUT=$(timeout -k 2 150 "$CALL" -t 120 "$CSI_SOCK" "$@" 2> "$VM_TMP/call.err") || _rc=$?
    [ -z "$CALL_OUT" ] || echo "$CALL_OUT" | sed 's/^/  /'
    [ $_rc -eq 0 ] || fail "csi $1 failed (rc=$_rc): $(cat "$VM_TMP/call.err")"
}
# cval KEY: a value of CALL_OUT.
cval() { echo "$CALL_OUT" | sed -n "s/^$1=//p" | head -n1; }
is_mounted() { awk -v p="$1" '$2 == p {f = 1} END {exit !f}' /proc/mounts; }
not_mounted() { ! is_mounted "$1"; }
csi_ready() {
    kill -0 "$CSI_PID" 2>/dev/null || fail "slio-csi exited: $(tail -n 20 "$CSI_LOG")"
    [ -S "$CSI_SOCK" ]
}

step binaries
cluster_check_binaries "$CSI" "$CALL"

step start
cluster_start
echo "+ slio-csi --mode node --node-id node-2 &"
"$CSI" --mode node --endpoint "unix://$CSI_SOCK" --controller "$CTL_URL" \
    --token-file "$VM_TMP/csi.token" --node-id node-2 >> "$CSI_LOG" 2>&1 &
CSI_PID=$!
wait_for 20 "slio-csi to listen on $CSI_SOCK" csi_ready

step volumes
vol_create local-fs "\"size\": $((256 * MIB))"
LOCAL_FS=$VOL_ID
case $VOL_DEV in /dev/vgthick/*) ;; *) fail "local-fs is not on node-2: $VOL_DEV" ;; esac
vol_create remote-fs "\"size\": $((384 * MIB)), \"thin\": true"
REMOTE_FS=$VOL_ID
case $VOL_DEV in /dev/vgthin/*) ;; *) fail "remote-fs is not on node-1: $VOL_DEV" ;; esac
vol_create local-blk "\"size\": $((64 * MIB))"
LOCAL_BLK=$VOL_ID
vol_create remote-blk "\"size\": $((128 * MIB)), \"thin\": true"
REMOTE_BLK=$VOL_ID

# fs_cycle ID FS NAME: stage + publish as FS, write and read a file through the published path,
# stats, unpublish (the staged mount stays), leaving the volume staged at $K/NAME/staging.
fs_stage_publish() {
    mkdir -p "$K/$3" # kubelet makes the parents; the plugin makes the paths themselves
    csi stage "id=$1" "staging=$K/$3/staging" mode=fs "fs=$2"
    is_mounted "$K/$3/staging" || fail "$3: the staging path is not a mount"
    csi stage "id=$1" "staging=$K/$3/staging" mode=fs "fs=$2" # idempotent
    csi publish "id=$1" "staging=$K/$3/staging" "target=$K/$3/pod" mode=fs "fs=$2"
    is_mounted "$K/$3/pod" || fail "$3: the target path is not a mount"
    grep " $K/$3/pod $2 " /proc/mounts >/dev/null || fail "$3: the target is not $2"
    write_pattern "$K/$3/pod/data" 4
    sync
    [ "$(sha_of "$K/$3/staging/data" 4)" = "$(sha_of "$K/$3/pod/data" 4)" ] ||
        fail "$3: staging and target show different files"
    csi stats "id=$1" "path=$K/$3/pod"
    [ "$(cval bytes_total)" -gt 0 ] && [ "$(cval inodes_total)" -gt 0 ] ||
        fail "$3: stats without bytes or inodes"
    [ "$(cval abnormal)" = false ] || fail "$3: condition abnormal: $(cval message)"
}
fs_unpublish_unstage() {
    csi unpublish "id=$1" "target=$K/$2/pod"
    not_mounted "$K/$2/pod" || fail "$2: the target is still mounted"
    [ ! -e "$K/$2/pod" ] || fail "$2: the target path is left"
    csi unpublish "id=$1" "target=$K/$2/pod" # idempotent
    csi unstage "id=$1" "staging=$K/$2/staging"
    not_mounted "$K/$2/staging" || fail "$2: the staging path is still mounted"
    csi unstage "id=$1" "staging=$K/$2/staging" # idempotent
}

step local-fs
fs_stage_publish "$LOCAL_FS" ext4 local-fs
any_nvme_blockdev && fail "a local volume was reached over NVMe/TCP"
fs_unpublish_unstage "$LOCAL_FS" local-fs

step remote-fs
fs_stage_publish "$REMOTE_FS" xfs remote-fs
RNQN=nqn.2024-01.io.slite:vol:$REMOTE_FS
[ "$(nvme_ctrl_count "$RNQN")" = 1 ] || fail "remote-fs: $(nvme_ctrl_count "$RNQN") controllers of $RNQN"
RDEV=$(nvme_ns_dev "$RNQN") || fail "remote-fs: no namespace of $RNQN"
echo "remote-fs is $RDEV"

step expand-online
api_ok POST "/v1/volumes/$REMOTE_FS/expand" "{\"size\": $((640 * MIB))}"
wait_for 60 "remote-fs expanded and ready" phase_is volumes "$REMOTE_FS" ready
csi expand "id=$REMOTE_FS" "path=$K/remote-fs/pod" "staging=$K/remote-fs/staging" mode=fs fs=xfs \
    size=$((640 * MIB))
[ "$(cval capacity_bytes)" = $((640 * MIB)) ] || fail "NodeExpandVolume says $(cval capacity_bytes)"
[ "$(size_bytes "$RDEV")" = $((640 * MIB)) ] || fail "$RDEV has $(size_bytes "$RDEV") bytes"
csi stats "id=$REMOTE_FS" "path=$K/remote-fs/pod"
[ "$(cval bytes_total)" -gt $((512 * MIB)) ] ||
    fail "the mounted xfs did not grow: $(cval bytes_total) bytes"
[ "$(sha_of "$K/remote-fs/pod/data" 4)" = "$(sha_of "$K/remote-fs/staging/data" 4)" ] ||
    fail "remote-fs: data changed across the expansion"

step condition-target-killed
SUM=$(sha_of "$K/remote-fs/pod/data" 4)
run kill -KILL "$TGT_PID1"
wait "$TGT_PID1" 2>/dev/null || true
TGT_PID1=
is_abnormal() { csi stats "id=$REMOTE_FS" "path=$K/remote-fs/pod" >/dev/null; [ "$(cval abnormal)" = true ]; }
wait_for 60 "the volume condition to turn abnormal" is_abnormal
csi stats "id=$REMOTE_FS" "path=$K/remote-fs/pod"
echo "condition: $(cval message)"
start_tgt 1 # empty: its agent exports the volume again on its next pass
is_normal() { csi stats "id=$REMOTE_FS" "path=$K/remote-fs/pod" >/dev/null; [ "$(cval abnormal)" = false ]; }
wait_for 120 "the re-exported volume to be live again" is_normal
[ "$(sha_of "$K/remote-fs/pod/data" 4)" = "$SUM" ] || fail "remote-fs: data changed after the outage"
fs_unpublish_unstage "$REMOTE_FS" remote-fs
wait_for 15 "remote-fs's controller to go" no_ctrl_of_nqn "$RNQN"

# block_cycle ID NAME: stage + publish as a raw block device, write through the published file,
# read back through the staged one, unpublish, unstage.
block_cycle() {
    mkdir -p "$K/$2"
    csi stage "id=$1" "staging=$K/$2/staging" mode=block
    csi publish "id=$1" "staging=$K/$2/staging" "target=$K/$2/dev" mode=block
    is_mounted "$K/$2/dev" || fail "$2: the published block file is not a bind mount"
    write_pattern "$VM_TMP/blk" 8
    run dd if="$VM_TMP/blk" of="$K/$2/dev" bs=1M oflag=direct conv=fsync,notrunc
    [ "$(sha_of "$K/$2/dev" 8)" = "$(sha256sum < "$VM_TMP/blk" | cut -d' ' -f1)" ] ||
        fail "$2: read back differs"
    csi stats "id=$1" "path=$K/$2/dev"
    [ "$(cval bytes_total)" -gt 0 ] || fail "$2: block stats without a size"
    csi unpublish "id=$1" "target=$K/$2/dev"
    not_mounted "$K/$2/dev" || fail "$2: the published file is still mounted"
    csi unstage "id=$1" "staging=$K/$2/staging"
    not_mounted "$K/$2/staging/block" || fail "$2: the staged block file is still mounted"
}

step local-block
block_cycle "$LOCAL_BLK" local-blk

step remote-block
block_cycle "$REMOTE_BLK" remote-blk
wait_for 15 "remote-blk's controller to go" no_ctrl_of_nqn "nqn.2024-01.io.slite:vol:$REMOTE_BLK"

step nothing-left
no_nvme_blockdev || fail "an nvme block device is left"
[ -z "$(ls /sys/class/nvme 2>/dev/null)" ] || fail "nvme controllers left: $(ls /sys/class/nvme)"
left=$(awk -v k="$K" 'index($2, k) == 1 {print $2}' /proc/mounts)
[ -z "$left" ] || fail "mounts left: $left"
for v in "$LOCAL_FS" "$REMOTE_FS" "$LOCAL_BLK" "$REMOTE_BLK"; do
    api_ok DELETE "/v1/volumes/$v"
done
for v in "$LOCAL_FS" "$REMOTE_FS" "$LOCAL_BLK" "$REMOTE_BLK"; do
    wait_for 60 "volume $v to go" gone volumes "$v"
done
for n in 1 2; do
    tgt_json $n nvmf_get_subsystems
    echo "$RPC_OUT" | grep -q 'io.slite:vol:' && fail "subsystems left in node-$n's slio-tgt: $RPC_OUT"
done

step stop
kill -TERM "$CSI_PID"
wait "$CSI_PID" || fail "slio-csi did not stop cleanly on SIGTERM"
CSI_PID=
cluster_teardown
true
