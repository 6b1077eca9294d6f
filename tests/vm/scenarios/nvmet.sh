# SPDX-License-Identifier: Apache-2.0
# Reference scenario: the Linux kernel's own NVMe/TCP target (nvmet, configured through configfs)
# exporting a thin LV to the kernel host on 127.0.0.1. Same host-side checks as tgt.sh (discover,
# connect with and without digests, ext4/xfs + fio verify, resize, host ACL, disconnect), so it
# proves the harness and gives the behaviour slio-tgt is compared with.
. /usr/lib/slio-vm/lib.sh
. /usr/lib/slio-vm/nvme-host.sh

VG=vgnvmet
NQN=nqn.2024-01.io.slite:nvmet-vol1
CFG=/sys/kernel/config/nvmet
SUB=$CFG/subsystems/$NQN
PORT=$CFG/ports/1
HOSTNQN=$(cat /etc/nvme/hostnqn)

cleanup() {
    rc=$?
    trap - EXIT
    if [ $rc -ne 0 ]; then
        echo "---- cleanup after failure"
        umount /mnt/fio 2>/dev/null
        timeout 20 $NVME disconnect-all 2>/dev/null
        rm -f "$PORT/subsystems/$NQN" 2>/dev/null
        rmdir "$PORT" 2>/dev/null
        [ -d "$SUB" ] && echo 0 > "$SUB/namespaces/1/enable" 2>/dev/null
        rmdir "$SUB/namespaces/1" 2>/dev/null
        rm -f "$SUB/allowed_hosts/$HOSTNQN" 2>/dev/null
        rmdir "$SUB" "$CFG/hosts/$HOSTNQN" 2>/dev/null
        vgchange -q -an "$VG" >/dev/null 2>&1
    fi
    exit $rc
}
trap cleanup EXIT

step lvm
run pvcreate -q "$VM_DISK"
run vgcreate -q "$VG" "$VM_DISK"
run lvcreate -q -y -L 1G -T "$VG/pool"
run lvcreate -q -y -V 1G -T "$VG/pool" -n vol1
LV=/dev/$VG/vol1

step nvmet-export
run mkdir "$SUB"
echo 0 > "$SUB/attr_allow_any_host" || fail "attr_allow_any_host"
run mkdir "$CFG/hosts/$HOSTNQN"
run ln -s "$CFG/hosts/$HOSTNQN" "$SUB/allowed_hosts/$HOSTNQN"
run mkdir "$SUB/namespaces/1"
echo -n "$LV" > "$SUB/namespaces/1/device_path" || fail "namespace device_path $LV"
echo 1 > "$SUB/namespaces/1/enable" || fail "cannot enable namespace 1 ($LV)"
run mkdir "$PORT"
echo tcp > "$PORT/addr_trtype"
echo ipv4 > "$PORT/addr_adrfam"
echo "$TRADDR" > "$PORT/addr_traddr"
echo "$TRSVCID" > "$PORT/addr_trsvcid"
run ln -s "$SUB" "$PORT/subsystems/$NQN"

step discover
nvme_discover_expect "$NQN"

step connect-ext4
nvme_connect "$NQN"
fs_fio_round "$NS_DEV" ext4
nvme_disconnect "$NQN"

step connect-digests-xfs
nvme_connect "$NQN" --hdr-digest --data-digest
fs_fio_round "$NS_DEV" xfs

step resize
run lvextend -q -L 1280M "$LV"
echo 1 > "$SUB/namespaces/1/revalidate_size" || fail "nvmet revalidate_size"
wait_ns_size "$NS_DEV" $((1280 << 20)) 10
nvme_disconnect "$NQN"

step acl
U=$(cat /proc/sys/kernel/random/uuid)
nvme_connect_must_fail "$NQN" 10 --hostnqn "nqn.2014-08.org.nvmexpress:uuid:$U" --hostid "$U"
[ "$(nvme_ctrl_count "$NQN")" = 0 ] || fail "a controller exists after the refused connect"

step disconnected
no_nvme_blockdev || fail "nvme block devices left: $(ls /sys/block | grep nvme)"
subs=$($NVME list-subsys 2>&1)
echo "$subs" | grep -q "$NQN" && fail "nvme list-subsys still lists $NQN: $subs"
echo "no nvme block device, nvme list-subsys empty"

step teardown
run rm "$PORT/subsystems/$NQN"
run rmdir "$PORT"
echo 0 > "$SUB/namespaces/1/enable"
run rmdir "$SUB/namespaces/1"
run rm "$SUB/allowed_hosts/$HOSTNQN"
run rmdir "$SUB" "$CFG/hosts/$HOSTNQN"
run lvremove -q -y "$VG"
run vgremove -q -y "$VG"
echo "nvmet scenario: all steps passed"
