# SPDX-License-Identifier: Apache-2.0
# Kernel NVMe/TCP host helpers shared by the nvmet (kernel target) and tgt (slio-tgt) scenarios.
# Sourced after lib.sh. Every wait is bounded; failures go through fail().
TRADDR=127.0.0.1
TRSVCID=4420
CONNECT_TIMEOUT=30 # nvme connect itself (the kernel's own admin timeout is 60 s)
NS_TIMEOUT=15      # namespace block device appearing after connect
# fio jobs "BS:IODEPTH:MIB" (random writes + crc32c verify on a file system, O_DIRECT)
FIO_JOBS=${FIO_JOBS:-4k:1:4 4k:32:16 64k:32:32 128k:1:32 128k:32:64}

# nvme_ns_dev NQN: print the namespace block device (/dev/nvmeXnY) of subsystem NQN, if any.
nvme_ns_dev() {
    for _s in /sys/class/nvme-subsystem/nvme-subsys*; do
        [ "$(cat "$_s/subsysnqn" 2>/dev/null)" = "$1" ] || continue
        for _n in "$_s"/nvme*n*; do
            _b=${_n##*/}
            case $_b in *c*) continue ;; esac # hidden per-path node nvmeXcYnZ
            [ -b "/dev/$_b" ] && { echo "/dev/$_b"; return 0; }
        done
    done
    for _c in $(nvme_ctrls_of "$1"); do # without native multipath
        for _n in "$_c"/nvme*n*; do
            _b=${_n##*/}
            [ -b "/dev/$_b" ] && { echo "/dev/$_b"; return 0; }
        done
    done
    return 1
}

# nvme_ctrls_of NQN: the sysfs directories of the kernel controllers connected to subsystem NQN.
nvme_ctrls_of() {
    for _c in /sys/class/nvme/nvme*; do
        [ "$(cat "$_c/subsysnqn" 2>/dev/null)" = "$1" ] && echo "$_c"
    done
    return 0
}

# nvme_ctrl_count NQN: number of kernel controllers connected to subsystem NQN.
nvme_ctrl_count() {
    _k=0
    for _c in $(nvme_ctrls_of "$1"); do _k=$((_k + 1)); done
    echo $_k
}

# any_nvme_blockdev: true if any nvme block device exists.
any_nvme_blockdev() {
    ls /sys/block 2>/dev/null | grep -q '^nvme'
}
no_nvme_blockdev() { ! any_nvme_blockdev; }
ns_of_nqn_exists() { nvme_ns_dev "$1" >/dev/null; }

# nvme_discover_expect NQN: discovery log from TRADDR:TRSVCID lists NQN.
nvme_discover_expect() {
    echo "+ nvme discover -t tcp -a $TRADDR -s $TRSVCID"
    _out=$(timeout -k 5 "$CONNECT_TIMEOUT" $NVME discover -t tcp -a "$TRADDR" -s "$TRSVCID" 2>&1) ||
        fail "nvme discover failed (rc=$?): $_out"
    echo "$_out"
    echo "$_out" | grep -q "subnqn: *$1\$" || fail "discovery log does not list $1"
}

# nvme_connect NQN [nvme connect options...]: connect and wait for the namespace block device;
# sets NS_DEV.
nvme_connect() {
    _nqn=$1
    shift
    echo "+ nvme connect -t tcp -a $TRADDR -s $TRSVCID -n $_nqn $*"
    _t0=$(uptime_s)
    _out=$(timeout -k 5 "$CONNECT_TIMEOUT" $NVME connect -t tcp -a "$TRADDR" -s "$TRSVCID" \
        -n "$_nqn" "$@" 2>&1) || fail "nvme connect $* failed (rc=$?): $_out"
    [ -z "$_out" ] || echo "$_out"
    wait_for "$NS_TIMEOUT" "the namespace block device of $_nqn" ns_of_nqn_exists "$_nqn"
    NS_DEV=$(nvme_ns_dev "$_nqn")
    echo "connected: $NS_DEV ($(size_bytes "$NS_DEV") bytes) in" \
        "$(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$_t0}")s"
}

# nvme_connect_must_fail NQN SECONDS [options...]: the connect must be refused within SECONDS.
nvme_connect_must_fail() {
    _nqn=$1
    _max=$2
    shift 2
    echo "+ nvme connect -t tcp -a $TRADDR -s $TRSVCID -n $_nqn $* (must be refused)"
    _t0=$(uptime_s)
    _rc=0
    _out=$(timeout -k 2 "$_max" $NVME connect -t tcp -a "$TRADDR" -s "$TRSVCID" -n "$_nqn" "$@" \
        2>&1) || _rc=$?
    _dt=$(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$_t0}")
    echo "$_out"
    [ $_rc -ne 0 ] || fail "connect $* was accepted (expected a refusal)"
    [ $_rc -ne 124 ] && [ $_rc -ne 137 ] ||
        fail "connect $* did not fail within ${_max}s (the target must answer with an error status)"
    echo "refused as expected (rc=$_rc) in ${_dt}s"
}

# nvme_disconnect NQN: disconnect and wait until the subsystem's controllers and namespaces are gone.
nvme_disconnect() {
    echo "+ nvme disconnect -n $1"
    _out=$(timeout -k 5 30 $NVME disconnect -n "$1" 2>&1) || fail "nvme disconnect failed: $_out"
    echo "$_out"
    wait_for 15 "the controllers of $1 to go away" no_ctrl_of_nqn "$1"
    wait_for 15 "the namespace of $1 to go away" not_ns_of_nqn "$1"
}
not_ns_of_nqn() { ! nvme_ns_dev "$1" >/dev/null; }
no_ctrl_of_nqn() { [ "$(nvme_ctrl_count "$1")" = 0 ]; }

# fs_fio_round DEV FSTYPE: mkfs, mount, fio random writes + crc32c verify for each FIO_JOBS
# entry, umount.
fs_fio_round() {
    _dev=$1
    _fs=$2
    case $_fs in
    ext4) run /usr/sbin/mkfs.ext4 -q -F "$_dev" ;;
    xfs) run /usr/sbin/mkfs.xfs -q -f "$_dev" ;;
    *) fail "unknown file system $_fs" ;;
    esac
    mkdir -p /mnt/fio
    run mount -t "$_fs" "$_dev" /mnt/fio
    for _j in $FIO_JOBS; do
        _bs=${_j%%:*}
        _qd=${_j#*:}
        _qd=${_qd%%:*}
        _mb=${_j##*:}
        _t0=$(uptime_s)
        if ! fio --name="v-$_bs-$_qd" --filename="/mnt/fio/v-$_bs-$_qd" --size="${_mb}M" \
            --rw=randwrite --bs="$_bs" --iodepth="$_qd" --direct=1 --ioengine=libaio \
            --verify=crc32c --do_verify=1 --verify_fatal=1 --output="$VM_TMP/fio.out" \
            >/dev/null 2>&1; then
            cat "$VM_TMP/fio.out"
            umount /mnt/fio 2>/dev/null
            fail "fio $_fs bs=$_bs iodepth=$_qd size=${_mb}M: write or crc32c verify failed"
        fi
        echo "fio $_fs bs=$_bs iodepth=$_qd ${_mb}MiB write+verify ok in" \
            "$(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$_t0}")s:" \
            "$(grep -E '^ +(WRITE|READ):' "$VM_TMP/fio.out" | sed 's/,.*//; s/^ *//' | tr '\n' ' ')"
        rm -f "/mnt/fio/v-$_bs-$_qd"
    done
    run umount /mnt/fio
}

# wait_ns_size DEV BYTES SECONDS: the host sees the namespace at the new size.
wait_ns_size() {
    _b=${1##*/}
    _t0=$(uptime_s)
    _i=0
    while [ "$(($(cat "/sys/block/$_b/size") * 512))" != "$2" ]; do
        _i=$((_i + 1))
        [ $_i -lt $(($3 * 10)) ] || fail "$1 still has $(($(cat "/sys/block/$_b/size") * 512))" \
            "bytes after ${3}s, expected $2"
        sleep 0.1
    done
    echo "$1 has the new size $2 after $(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$_t0}")s"
}
