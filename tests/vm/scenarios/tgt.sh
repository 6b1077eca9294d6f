# SPDX-License-Identifier: Apache-2.0
# slio-tgt (SLiteIO's user-space NVMe/TCP target) exporting an LV to the Linux kernel's NVMe/TCP
# host over 127.0.0.1, configured with slio-tgt-rpc (SPDK method names). Checks: discovery,
# connect without and with header/data digests, ext4/xfs + fio crc32c verify at several block
# sizes and queue depths, online resize (lvextend + bdev_aio_rescan), host ACL refusal without a
# hang, kill -9 of the target under a mounted file system with writes in flight and a restart
# from its saved configuration (the kernel host reconnects and carries on), its listener removed
# and added back under writes (the host's controller is dropped, it reconnects), a namespace on a
# tmpfs file (reads sent from its pages), Debian's nvme-cli through the kernel's admin and I/O
# pass-through (identify, descriptors, SMART counters, features, flush, write zeroes, deallocate,
# controller reset), a namespace added to and removed from a connected subsystem (asynchronous
# event + changed namespace list), a full thin pool (the host's writes fail with ENOSPC, the target
# carries on, writes succeed again once the pool is extended), disconnect, clean SIGTERM stop.
# Every wait is bounded.
# Keep-alive expiry uses slio-perf (a user-space host we can freeze with SIGSTOP; the kernel host
# cannot be frozen from inside the guest).
. /usr/lib/slio-vm/lib.sh
. /usr/lib/slio-vm/tgt-lib.sh
. /usr/lib/slio-vm/nvme-host.sh

TGT=/usr/local/bin/slio-tgt
RPC=/usr/local/bin/slio-tgt-rpc
PERF=/usr/local/bin/slio-perf
SOCK=/run/slio-tgt.sock
VG=vgtgt
LV=/dev/$VG/vol1
NQN=nqn.2024-01.io.slite:vol1
HOSTNQN=$(cat /etc/nvme/hostnqn)
TGT_LOG=$VM_TMP/slio-tgt.log
TGT_CFG=$VM_TMP/slio-tgt.json # --save-config: rewritten after every change, loaded on restart
TGT_PID=

step binaries
for b in "$TGT" "$RPC" "$PERF"; do
    [ -x "$b" ] || fail "$(basename "$b") is not in the guest: it is not built in $SLIO_BUILD_HOST" \
        "(build it: make)"
done

cleanup() {
    rc=$?
    trap - EXIT
    if [ $rc -ne 0 ]; then
        echo "---- cleanup after failure"
        tgt_log_tail
        umount /mnt/fio 2>/dev/null
        timeout 20 $NVME disconnect-all 2>/dev/null
        tgt_stop_hard
        vgchange -q -an "$VG" >/dev/null 2>&1
    fi
    exit $rc
}
trap cleanup EXIT

# rpc_must_fail METHOD JSON: the call must be refused with exit status 1 and a message on stderr.
rpc_must_fail() {
    echo "+ slio-tgt-rpc $* (must fail)"
    _rc=0
    timeout -k 2 10 "$RPC" -s "$SOCK" "$@" > "$VM_TMP/rpc.out" 2> "$VM_TMP/rpc.err" || _rc=$?
    [ $_rc -eq 1 ] || fail "rpc $1 $2: expected exit status 1, got $_rc: $(cat "$VM_TMP/rpc.out")"
    [ -s "$VM_TMP/rpc.err" ] || fail "rpc $1 failed without an error message on stderr"
    echo "refused as expected: $(cat "$VM_TMP/rpc.err")"
}
# host_ctrl_count: controllers of our host NQN that slio-tgt reports for $NQN.
host_ctrl_count() {
    timeout -k 2 10 "$RPC" -s "$SOCK" nvmf_subsystem_get_controllers "{\"nqn\": \"$NQN\"}" \
        2>/dev/null | grep -c "$HOSTNQN"
}
no_tgt_ctrl() { [ "$(host_ctrl_count)" = 0 ]; }
# bdev_deleted NAME: bdev_aio_delete NAME succeeds (it is refused while a namespace still uses it).
bdev_deleted() {
    timeout -k 2 10 "$RPC" -s "$SOCK" bdev_aio_delete "{\"name\": \"$1\"}" >/dev/null 2>&1
}
# ctrl_state STATE: the kernel controller of $NQN is in STATE (live, connecting, resetting...).
ctrl_state() {
    for _c in $(nvme_ctrls_of "$NQN"); do
        [ "$(cat "$_c/state" 2>/dev/null)" = "$1" ] && return 0
    done
    return 1
}
ctrl_not_live() { ! ctrl_state live; }
# wait_reconnect WHAT: the kernel host's controller of $NQN is live again after WHAT.
wait_reconnect() {
    _t0=$(uptime_s)
    wait_for 30 "the kernel host to reconnect after $1" ctrl_state live
    echo "kernel host live again $(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$_t0}")s after $1"
    [ "$(host_ctrl_count)" = 1 ] || fail "slio-tgt lists $(host_ctrl_count) controllers of $HOSTNQN after $1"
}
writes_of_aio0() {
    timeout -k 2 10 "$RPC" -s "$SOCK" bdev_get_iostat '{"name": "aio0"}' 2>/dev/null |
        sed -n 's/.*"num_write_ops": *\([0-9]*\).*/\1/p'
}
fio_writing() { [ "$(($(writes_of_aio0) - FIO_W0))" -ge 512 ]; }
# fio_bg_start NAME FILE MIB: fio's 4K random writes (QD16, O_DIRECT) + crc32c verify of FILE in
# the background, bounded to 120 s; returns once its writes reach bdev aio0.
fio_bg_start() {
    FIO_NAME=$1
    FIO_W0=$(writes_of_aio0)
    timeout -k 5 120 fio --name="$1" --filename="$2" --size="$3M" --rw=randwrite --bs=4k \
        --iodepth=16 --direct=1 --ioengine=libaio --verify=crc32c --do_verify=1 --verify_fatal=1 \
        --output="$VM_TMP/fio-$1.out" >/dev/null 2>&1 &
    FIO_PID=$!
    wait_for 30 "fio's writes to reach slio-tgt" fio_writing
    echo "fio $1 writing: $(($(writes_of_aio0) - FIO_W0)) writes so far"
}
# fio_bg_check WHAT: the background fio wrote and verified everything across WHAT.
fio_bg_check() {
    _frc=0
    wait "$FIO_PID" || _frc=$?
    [ $_frc -eq 0 ] || { cat "$VM_TMP/fio-$FIO_NAME.out"; fail "fio across $1 failed (rc=$_frc): write or crc32c verify"; }
    echo "fio across $1: write+verify ok: $(grep -E '^ +(WRITE|READ):' "$VM_TMP/fio-$FIO_NAME.out" |
        sed 's/,.*//; s/^ *//' | tr '\n' ' ')"
}

step lvm
run pvcreate -q "$VM_DISK"
run vgcreate -q "$VG" "$VM_DISK"
run lvcreate -q -y -L 2G -T "$VG/pool"
run lvcreate -q -y -V 1G -T "$VG/pool" -n vol1

# start_tgt [options...]: start slio-tgt (log appended to TGT_LOG) and wait for its RPC socket.
start_tgt() {
    rm -f "$SOCK"
    echo "+ slio-tgt -r $SOCK --save-config $TGT_CFG $* 2>> $TGT_LOG &"
    "$TGT" -r "$SOCK" --save-config "$TGT_CFG" "$@" >> "$TGT_LOG" 2>&1 &
    TGT_PID=$!
    wait_for 10 "slio-tgt to listen on $SOCK" tgt_ready
    echo "slio-tgt running (pid $TGT_PID)"
}

step start-target
start_tgt

step configure
rpc bdev_aio_create "{\"filename\": \"$LV\", \"name\": \"aio0\", \"block_size\": 512}"
rpc_must_fail bdev_aio_create "{\"filename\": \"/dev/$VG/missing\", \"name\": \"bad0\", \"block_size\": 512}"
rpc nvmf_create_transport '{"trtype": "TCP"}'
rpc nvmf_create_subsystem \
    "{\"nqn\": \"$NQN\", \"serial_number\": \"SLIO0001\", \"allow_any_host\": false}"
rpc nvmf_subsystem_add_ns "{\"nqn\": \"$NQN\", \"namespace\": {\"bdev_name\": \"aio0\"}}"
rpc nvmf_subsystem_add_host "{\"nqn\": \"$NQN\", \"host\": \"$HOSTNQN\"}"
ADDR="{\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"$TRADDR\", \"trsvcid\": \"$TRSVCID\"}"
rpc nvmf_subsystem_add_listener "{\"nqn\": \"$NQN\", \"listen_address\": $ADDR}"

step discover
nvme_discover_expect "$NQN"

step connect-ext4
nvme_connect "$NQN"
[ "$(size_bytes "$NS_DEV")" = $((1 << 30)) ] || fail "$NS_DEV is $(size_bytes "$NS_DEV") bytes, LV is 1 GiB"
rpc nvmf_subsystem_get_controllers "{\"nqn\": \"$NQN\"}"
echo "$RPC_OUT" | grep -q "$HOSTNQN" || fail "nvmf_subsystem_get_controllers does not list $HOSTNQN"
fs_fio_round "$NS_DEV" ext4
nvme_disconnect "$NQN"
wait_for 10 "slio-tgt to drop the controller after disconnect" no_tgt_ctrl

step connect-digests-xfs
nvme_connect "$NQN" --hdr-digest --data-digest
fs_fio_round "$NS_DEV" xfs

step resize
run lvextend -q -L 1280M "$LV"
rpc bdev_aio_rescan '{"name": "aio0"}'
wait_ns_size "$NS_DEV" $((1280 << 20)) 10
nvme_disconnect "$NQN"

step acl
U=$(cat /proc/sys/kernel/random/uuid)
nvme_connect_must_fail "$NQN" 10 --hostnqn "nqn.2014-08.org.nvmexpress:uuid:$U" --hostid "$U"
[ "$(nvme_ctrl_count "$NQN")" = 0 ] || fail "a kernel controller exists after the refused connect"

step crash-restart
# slio-tgt is killed (SIGKILL) under a mounted ext4 with fio's writes in flight, and restarted from
# the configuration it saved: the kernel host reconnects by itself, the writes it held meanwhile
# complete, fio's crc32c verify passes, a file written before the crash is intact, fsck is clean.
[ -s "$TGT_CFG" ] || fail "slio-tgt did not write its configuration to $TGT_CFG"
nvme_connect "$NQN" --reconnect-delay 1 --ctrl-loss-tmo 60
run /usr/sbin/mkfs.ext4 -q -F "$NS_DEV"
mkdir -p /mnt/fio
run mount -t ext4 "$NS_DEV" /mnt/fio
run dd if=/dev/urandom of=/mnt/fio/before bs=1M count=8 conv=fsync status=none
SUM_BEFORE=$(sha_of /mnt/fio/before 8)
fio_bg_start crash /mnt/fio/crash 24
echo "+ kill -KILL $TGT_PID"
kill -KILL "$TGT_PID"
wait "$TGT_PID" 2>/dev/null || true # 137: killed
TGT_PID=
wait_for 15 "the kernel host to notice the lost connection" ctrl_not_live
echo "kernel controller: $(for c in $(nvme_ctrls_of "$NQN"); do cat "$c/state"; done | tr '\n' ' ')"
start_tgt -c "$TGT_CFG"
wait_reconnect "the target's restart"
fio_bg_check "the target's crash"
[ "$(sha_of /mnt/fio/before 8)" = "$SUM_BEFORE" ] || fail "a file written before the crash changed"
run umount /mnt/fio
run /usr/sbin/fsck.ext4 -n -f "$NS_DEV"
nvme_disconnect "$NQN"

step listener-flap
# The listener is removed under a host writing through it (slio-tgt drops the controllers that
# connected through it) and added back 3 s later: the host's reconnects are refused meanwhile, then
# succeed; the writes it held complete and verify.
nvme_connect "$NQN" --reconnect-delay 1 --ctrl-loss-tmo 60
fio_bg_start flap "$NS_DEV" 16
rpc nvmf_subsystem_remove_listener "{\"nqn\": \"$NQN\", \"listen_address\": $ADDR}"
wait_for 15 "the kernel host to lose its controller" ctrl_not_live
wait_for 10 "slio-tgt to drop the host's controller" no_tgt_ctrl
sleep 3
ctrl_not_live || fail "the kernel host reconnected while slio-tgt had no listener"
rpc nvmf_subsystem_add_listener "{\"nqn\": \"$NQN\", \"listen_address\": $ADDR}"
wait_reconnect "the listener's return"
fio_bg_check "the listener's absence"
nvme_disconnect "$NQN"
wait_for 10 "slio-tgt to drop the host's controller" no_tgt_ctrl
# Everything the steps below create (connections, bdevs, subsystems, a mapped file) is gone again
# by step "disconnected", which checks that the target holds no more descriptors than now.
tgt_fds() { ls "/proc/$TGT_PID/fd" | wc -l; }
FDS_BASE=$(tgt_fds)
echo "slio-tgt holds $FDS_BASE file descriptors with no host connected"

step nvme-cli
# What a real client reads back: Debian's nvme-cli through the kernel host's pass-through.
# json_num KEY / json_str KEY: the first value of KEY in the JSON on stdin (nvme-cli quotes
# 128-bit counters such as SMART's).
json_num() { sed -n "s/.*\"$1\" *: *\"\{0,1\}\([0-9][0-9]*\).*/\1/p" | head -n 1; }
json_str() { sed -n "s/.*\"$1\" *: *\"\([^\"]*\)\".*/\1/p" | head -n 1; }
# cli ARGS...: nvme ARGS (bounded), output in CLI_OUT and echoed; any failure fails the step.
cli() {
    echo "+ nvme $*"
    _rc=0
    CLI_OUT=$(timeout -k 2 20 $NVME "$@" 2>&1) || _rc=$?
    echo "$CLI_OUT" | head -n 12
    [ $_rc -eq 0 ] || fail "nvme $* failed (rc=$_rc)"
}
nvme_connect "$NQN"
CTRL=/dev/$(basename "$(nvme_ctrls_of "$NQN" | head -n 1)")
[ -c "$CTRL" ] || fail "no controller character device for $NQN"
cli id-ctrl "$CTRL" -o json
IDC=$CLI_OUT
[ "$(echo "$IDC" | json_str subnqn)" = "$NQN" ] || fail "id-ctrl subnqn is not $NQN"
[ "$(echo "$IDC" | json_str sn | tr -d ' ')" = SLIO0001 ] || fail "id-ctrl serial is not SLIO0001"
MDTS=$(echo "$IDC" | json_num mdts)
[ -n "$MDTS" ] && [ "$MDTS" -ge 5 ] || fail "id-ctrl mdts $MDTS: below 128 KiB (2^5 pages of 4 KiB)"
[ "$(echo "$IDC" | json_num kas)" -gt 0 ] || fail "id-ctrl kas is 0: keep alive not supported"
cli id-ns "$NS_DEV" -o json
NSZE=$(echo "$CLI_OUT" | json_num nsze)
[ "$((NSZE * 512))" = "$(size_bytes "$NS_DEV")" ] ||
    fail "id-ns nsze $NSZE blocks of 512 is not the device's $(size_bytes "$NS_DEV") bytes"
cli list-ns "$CTRL"
echo "$CLI_OUT" | grep -q "0x1" || fail "list-ns does not list namespace 1"
NS_UUID=$(sed -n '/nvmf_subsystem_add_ns/,/}/p' "$TGT_CFG" | json_str uuid)
[ -n "$NS_UUID" ] || fail "no namespace uuid in $TGT_CFG"
cli ns-descs "$NS_DEV"
echo "$CLI_OUT" | grep -qi "$NS_UUID" || fail "ns-descs does not carry the namespace's uuid $NS_UUID"
cli smart-log "$CTRL" -o json
R0=$(echo "$CLI_OUT" | json_num host_read_commands)
run dd if="$NS_DEV" of=/dev/null bs=4k count=1024 iflag=direct status=none
cli smart-log "$CTRL" -o json
R1=$(echo "$CLI_OUT" | json_num host_read_commands)
[ "$((R1 - R0))" -ge 1024 ] || fail "SMART host_read_commands moved by $((R1 - R0)) for 1024 reads"
echo "SMART host_read_commands $R0 -> $R1 after 1024 reads of 4 KiB"
cli error-log "$CTRL" -e 1
cli get-feature "$CTRL" -f 7
cli get-feature "$CTRL" -f 0xf
echo "$CLI_OUT" | grep -qi "current value: *0x0*[1-9a-f]" || fail "keep-alive timer feature reads 0"
cli flush "$NS_DEV" -n 1
write_pattern "$VM_TMP/pat4k" 1
run dd if="$VM_TMP/pat4k" of="$NS_DEV" bs=4k count=1 oflag=direct status=none
cli write-zeroes "$NS_DEV" -n 1 -s 0 -c 7
NONZERO=$(dd if="$NS_DEV" bs=4k count=1 iflag=direct status=none | tr -d '\0' | wc -c)
[ "$NONZERO" -eq 0 ] || fail "LBAs 0-7 hold $NONZERO non-zero bytes after write-zeroes"
cli dsm "$NS_DEV" -n 1 --ad -s 8 -b 8
SUM_RST=$(sha_of "$NS_DEV" 4 16)
cli reset "$CTRL"
wait_for 30 "the controller to be live again after the reset" ctrl_state live
[ "$(sha_of "$NS_DEV" 4 16)" = "$SUM_RST" ] || fail "data read after the controller reset differs"
nvme_disconnect "$NQN"

step ns-hotplug
# A namespace added to a subsystem the host is connected to appears on that host (Asynchronous
# Event "namespace attribute changed", then the Changed Namespace List log), carries data, and
# leaves the host when it is removed; namespace 1 is untouched throughout.
# ns_by_uuid UUID: the namespace block device whose UUID is UUID.
ns_by_uuid() {
    for _b in /sys/block/nvme*; do
        case ${_b##*/} in *c*) continue ;; esac
        [ "$(cat "$_b/uuid" 2>/dev/null)" = "$1" ] && { echo "/dev/${_b##*/}"; return 0; }
    done
    return 1
}
ns2_present() { ns_by_uuid "$UUID2" >/dev/null; }
ns2_absent() { ! ns2_present; }
nvme_connect "$NQN"
NS1=$NS_DEV
SUM1=$(sha_of "$NS1" 4 16)
run lvcreate -q -y -V 256M -T "$VG/pool" -n vol2
rpc bdev_aio_create "{\"filename\": \"/dev/$VG/vol2\", \"name\": \"aio1\", \"block_size\": 512}"
UUID2=$(cat /proc/sys/kernel/random/uuid)
rpc nvmf_subsystem_add_ns \
    "{\"nqn\": \"$NQN\", \"namespace\": {\"bdev_name\": \"aio1\", \"nsid\": 2, \"uuid\": \"$UUID2\"}}"
wait_for 15 "namespace 2 (uuid $UUID2) to appear on the connected host" ns2_present
NS2=$(ns_by_uuid "$UUID2")
echo "namespace 2 appeared as $NS2"
[ "$(size_bytes "$NS2")" = $((256 << 20)) ] || fail "$NS2 is $(size_bytes "$NS2") bytes, vol2 is 256 MiB"
write_pattern "$VM_TMP/pat8m" 8
run dd if="$VM_TMP/pat8m" of="$NS2" bs=1M oflag=direct status=none
[ "$(sha_of "$NS2" 8)" = "$(sha256sum < "$VM_TMP/pat8m" | cut -d' ' -f1)" ] ||
    fail "namespace 2 does not read back what was written to it"
rpc nvmf_subsystem_remove_ns "{\"nqn\": \"$NQN\", \"nsid\": 2}"
wait_for 15 "namespace 2 to leave the connected host" ns2_absent
[ "$(sha_of "$NS1" 4 16)" = "$SUM1" ] || fail "namespace 1 changed while namespace 2 came and went"
nvme_disconnect "$NQN"
rpc bdev_aio_delete '{"name": "aio1"}'
run lvremove -q -y "$VG/vol2"

step thin-pool-full
# An over-provisioned thin pool runs out of space (created with --errorwhenfull y, so dm-thin fails
# new allocations at once instead of queueing them for 60 s): the host's writes fail with "No space
# left on device" (NVMe Capacity Exceeded), slio-tgt stays up, and once the pool is extended the
# same writes succeed and read back.
FULLNQN=nqn.2024-01.io.slite:full1
run lvcreate -q -y -L 32M -T "$VG/small" --errorwhenfull y
run lvcreate -q -y -V 128M -T "$VG/small" -n over
rpc bdev_aio_create "{\"filename\": \"/dev/$VG/over\", \"name\": \"over0\", \"block_size\": 512}"
rpc nvmf_create_subsystem "{\"nqn\": \"$FULLNQN\", \"allow_any_host\": true}"
rpc nvmf_subsystem_add_ns "{\"nqn\": \"$FULLNQN\", \"namespace\": {\"bdev_name\": \"over0\"}}"
rpc nvmf_subsystem_add_listener "{\"nqn\": \"$FULLNQN\", \"listen_address\": $ADDR}"
nvme_connect "$FULLNQN"
write_pattern "$VM_TMP/pat64m" 64
echo "+ dd 64 MiB into a 128 MiB thin LV whose pool holds 32 MiB (must fail)"
drc=0
timeout -k 2 60 dd if="$VM_TMP/pat64m" of="$NS_DEV" bs=1M oflag=direct 2> "$VM_TMP/dd.err" || drc=$?
cat "$VM_TMP/dd.err"
[ $drc -ne 0 ] || fail "64 MiB went into a thin pool of 32 MiB"
[ $drc -ne 124 ] && [ $drc -ne 137 ] || fail "writes to a full thin pool hung instead of failing"
grep -q "No space left on device" "$VM_TMP/dd.err" ||
    fail "writes to a full thin pool failed without ENOSPC on the host"
kill -0 "$TGT_PID" || fail "slio-tgt died when its thin pool filled up"
rpc bdev_get_iostat '{"name": "over0"}'
run lvextend -q -L 160M "$VG/small"
run dd if="$VM_TMP/pat64m" of="$NS_DEV" bs=1M oflag=direct status=none
[ "$(sha_of "$NS_DEV" 64)" = "$(sha256sum < "$VM_TMP/pat64m" | cut -d' ' -f1)" ] ||
    fail "the writes after extending the pool do not read back"
echo "after lvextend of the pool: 64 MiB written and read back"
nvme_disconnect "$FULLNQN"
rpc nvmf_delete_subsystem "{\"nqn\": \"$FULLNQN\"}"
wait_for 10 "bdev over0 to be deletable once its subsystem is gone" bdev_deleted over0
run lvremove -q -y "$VG/over" "$VG/small"

step memory-file
# A namespace on a file on tmpfs: slio-tgt sends its reads from the file's pages (the registry maps
# it, tgt/registry/bdev_map.c). The kernel host must read back exactly what it wrote, through
# 4K reads and 128K ones.
MEMNQN=nqn.2024-01.io.slite:mem1
MEMDIR=$VM_TMP/shm
mkdir -p "$MEMDIR"
run mount -t tmpfs -o size=96M slio-shm "$MEMDIR"
run truncate -s 64M "$MEMDIR/mem.img"
rpc bdev_aio_create "{\"filename\": \"$MEMDIR/mem.img\", \"name\": \"mem0\"}"
grep -q "bdev mem0: reads are sent from the pages" "$TGT_LOG" ||
    { tgt_log_tail; fail "slio-tgt did not map the tmpfs file of bdev mem0"; }
rpc nvmf_create_subsystem "{\"nqn\": \"$MEMNQN\", \"allow_any_host\": true}"
rpc nvmf_subsystem_add_ns "{\"nqn\": \"$MEMNQN\", \"namespace\": {\"bdev_name\": \"mem0\"}}"
rpc nvmf_subsystem_add_listener "{\"nqn\": \"$MEMNQN\", \"listen_address\": $ADDR}"
nvme_connect "$MEMNQN"
for j in 4k:16 128k:8; do
    _t0=$(uptime_s)
    fio --name="mem-${j%%:*}" --filename="$NS_DEV" --size=32M --rw=randwrite --bs="${j%%:*}" \
        --iodepth="${j#*:}" --direct=1 --ioengine=libaio --verify=crc32c --do_verify=1 \
        --verify_fatal=1 --output="$VM_TMP/fio.out" >/dev/null 2>&1 ||
        { cat "$VM_TMP/fio.out"; fail "fio on the tmpfs-backed namespace, bs ${j%%:*}: verify failed"; }
    echo "fio raw bs=${j%%:*} iodepth=${j#*:} 32MiB write+verify ok in" \
        "$(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$_t0}")s"
done
nvme_disconnect "$MEMNQN"
rpc nvmf_delete_subsystem "{\"nqn\": \"$MEMNQN\"}"
wait_for 10 "bdev mem0 to be deletable once its namespace is gone" bdev_deleted mem0
file_unmapped() { ! grep -q "$MEMDIR/mem.img" "/proc/$TGT_PID/maps"; }
wait_for 10 "slio-tgt to unmap the deleted bdev's file" file_unmapped
run umount "$MEMDIR"

step keep-alive
# A host that stops sending Keep Alive loses its controller after KATO: slio-perf holds an
# association with a 2 s KATO, is frozen with SIGSTOP, and slio-tgt must drop it.
"$PERF" connect -a "$TRADDR" -s "$TRSVCID" -n "$NQN" --hostnqn "$HOSTNQN" --kato 2000 --hold 60 > "$VM_TMP/perf.log" 2>&1 &
PERF_PID=$!
perf_ctrl() { [ "$(host_ctrl_count)" = 1 ]; }
wait_for 10 "slio-perf's controller to appear in slio-tgt" perf_ctrl
kill -STOP "$PERF_PID"
t0=$(uptime_s)
wait_for 10 "slio-tgt to drop the frozen host's controller (KATO 2 s)" no_tgt_ctrl
echo "controller dropped $(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$t0}")s after the host froze"
kill -CONT "$PERF_PID"
prc=0
timeout -k 2 15 sh -c "while kill -0 $PERF_PID 2>/dev/null; do sleep 0.1; done" || prc=$?
[ $prc -eq 0 ] || { kill -KILL "$PERF_PID"; fail "slio-perf did not notice the dropped association"; }
wait "$PERF_PID" && fail "slio-perf connect exited 0 after losing its controller: $(cat "$VM_TMP/perf.log")"
echo "slio-perf noticed: $(tail -n 1 "$VM_TMP/perf.log")"

step disconnected
no_nvme_blockdev || fail "nvme block devices left: $(ls /sys/block | grep nvme)"
subs=$($NVME list-subsys 2>&1)
echo "$subs" | grep -q "$NQN" && fail "nvme list-subsys still lists $NQN: $subs"
wait_for 10 "slio-tgt to drop all controllers" no_tgt_ctrl
echo "no nvme block device, nvme list-subsys empty, no controller in slio-tgt"
i=0
while [ "$(tgt_fds)" -gt "$FDS_BASE" ]; do # closing connections may take a moment
    i=$((i + 1))
    [ $i -lt 100 ] || { ls -l "/proc/$TGT_PID/fd"; fail "slio-tgt holds $(tgt_fds) descriptors, $FDS_BASE before"; }
    sleep 0.1
done
echo "slio-tgt holds $(tgt_fds) file descriptors after the hot-plug, full-pool, memory-file and keep-alive steps"

step stop-target
rpc nvmf_delete_subsystem "{\"nqn\": \"$NQN\"}"
echo "+ kill -TERM $TGT_PID"
kill -TERM "$TGT_PID"
i=0
while kill -0 "$TGT_PID" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || { tgt_log_tail; fail "slio-tgt still running 10 s after SIGTERM"; }
    sleep 0.1
done
trc=0
wait "$TGT_PID" || trc=$?
TGT_PID=
[ $trc -eq 0 ] || { tgt_log_tail; fail "slio-tgt exited with status $trc after SIGTERM"; }
echo "slio-tgt stopped cleanly after $((i / 10)).$((i % 10))s"

step cleanup
run lvremove -q -y "$VG"
run vgremove -q -y "$VG"
echo "tgt scenario: all steps passed"
