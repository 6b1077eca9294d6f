# SPDX-License-Identifier: Apache-2.0
# LVM as SLiteIO's agent uses it: VG on a disk, thick LV, thin pool with an over-provisioned thin
# LV, thin snapshot, lvextend of thick and thin LVs, discard returning space to the pool, cleanup.
. /usr/lib/slio-vm/lib.sh

VG=vgtest
MIB=32

step pv-vg
run pvcreate -q "$VM_DISK"
run vgcreate -q "$VG" "$VM_DISK"
run vgs "$VG"

step thick-lv
run lvcreate -q -y -L 256M -n thick "$VG"
[ -b "/dev/$VG/thick" ] || fail "/dev/$VG/thick is not a block device"
[ "$(size_bytes "/dev/$VG/thick")" = $((256 << 20)) ] || fail "thick LV is not 256 MiB"
write_pattern "$VM_TMP/a.bin" $MIB
run dd if="$VM_TMP/a.bin" of="/dev/$VG/thick" bs=1M oflag=direct conv=fsync 2>/dev/null
SUM_A=$(sha256sum < "$VM_TMP/a.bin" | cut -d' ' -f1)
got=$(sha_of "/dev/$VG/thick" $MIB)
[ "$got" = "$SUM_A" ] || fail "thick LV read back $got, wrote $SUM_A"
echo "thick LV: ${MIB} MiB written and read back, sha256 $got"

step thin-pool
run lvcreate -q -y -L 256M -T "$VG/pool"
# virtual size (2 GiB) > pool (256 MiB): over-provisioned
run lvcreate -q -y -V 2G -T "$VG/pool" -n thin1
[ "$(size_bytes "/dev/$VG/thin1")" = $((2 << 30)) ] || fail "thin LV is not 2 GiB"
dmsetup table | grep -q ' thin-pool ' || fail "no dm thin-pool target in dmsetup table"
dmsetup table | grep -q ' thin ' || fail "no dm thin target in dmsetup table"
run dd if="$VM_TMP/a.bin" of="/dev/$VG/thin1" bs=1M oflag=direct conv=fsync 2>/dev/null
got=$(sha_of "/dev/$VG/thin1" $MIB)
[ "$got" = "$SUM_A" ] || fail "thin LV read back $got, wrote $SUM_A"
# a region never written reads as zeros
z=$(sha_of "/dev/$VG/thin1" 4 1024)
[ "$z" = "$(dd if=/dev/zero bs=1M count=4 2>/dev/null | sha256sum | cut -d' ' -f1)" ] ||
    fail "unwritten thin LV region does not read as zeros"
run lvs -a -o lv_name,lv_attr,lv_size,pool_lv,data_percent,metadata_percent "$VG"

step thin-snapshot
run lvcreate -q -y -s -n snap1 "$VG/thin1"
# thin snapshots are created with the activation-skip flag: activate explicitly
run lvchange -q -ay -K "$VG/snap1"
[ -b "/dev/$VG/snap1" ] || fail "snapshot /dev/$VG/snap1 not activated"
write_pattern "$VM_TMP/b.bin" $MIB
SUM_B=$(sha256sum < "$VM_TMP/b.bin" | cut -d' ' -f1)
run dd if="$VM_TMP/b.bin" of="/dev/$VG/thin1" bs=1M oflag=direct conv=fsync 2>/dev/null
got=$(sha_of "/dev/$VG/thin1" $MIB)
[ "$got" = "$SUM_B" ] || fail "origin after snapshot reads $got, wrote $SUM_B"
got=$(sha_of "/dev/$VG/snap1" $MIB)
[ "$got" = "$SUM_A" ] || fail "snapshot lost the old data: reads $got, expected $SUM_A"
echo "origin has the new data, snapshot kept the old data"

step lvextend
run lvextend -q -L 384M "$VG/thick"
[ "$(size_bytes "/dev/$VG/thick")" = $((384 << 20)) ] ||
    fail "thick LV is $(size_bytes "/dev/$VG/thick") bytes after lvextend to 384 MiB"
got=$(sha_of "/dev/$VG/thick" $MIB)
[ "$got" = "$SUM_A" ] || fail "thick LV data changed by lvextend"
run lvextend -q -L 3G "$VG/thin1"
[ "$(size_bytes "/dev/$VG/thin1")" = $((3 << 30)) ] ||
    fail "thin LV is $(size_bytes "/dev/$VG/thin1") bytes after lvextend to 3 GiB"
got=$(sha_of "/dev/$VG/thin1" $MIB)
[ "$got" = "$SUM_B" ] || fail "thin LV data changed by lvextend"

step discard
before=$(lv_json_field "$VG/pool" data_percent)
[ -n "$before" ] || fail "no data_percent for $VG/pool in lvs --reportformat json"
run blkdiscard "/dev/$VG/thin1"
run sync
after=$(lv_json_field "$VG/pool" data_percent)
echo "pool data_percent before discard $before%, after $after%"
awk "BEGIN{exit !($after < $before)}" ||
    fail "blkdiscard on the thin LV did not lower the pool usage ($before% -> $after%)"
z=$(sha_of "/dev/$VG/thin1" $MIB)
[ "$z" = "$(dd if=/dev/zero bs=1M count=$MIB 2>/dev/null | sha256sum | cut -d' ' -f1)" ] ||
    fail "discarded thin LV does not read as zeros"
got=$(sha_of "/dev/$VG/snap1" $MIB)
[ "$got" = "$SUM_A" ] || fail "discard on the origin changed the snapshot"

step cleanup
run lvremove -q -y "$VG/snap1" "$VG/thin1" "$VG/pool" "$VG/thick"
left=$(lvs --noheadings -o lv_name "$VG")
[ -z "$(echo $left)" ] || fail "LVs left after cleanup: $left"
run vgremove -q -y "$VG"
run pvremove -q -y "$VM_DISK"
[ -z "$(dmsetup ls | grep -v 'No devices found')" ] || fail "dm devices left: $(dmsetup ls)"
echo "lvm scenario: all steps passed"
