# SPDX-License-Identifier: Apache-2.0
# Helpers for the VM guest's /init and scenarios (busybox ash). Sourced, not run.
# A scenario runs as `sh -e /scenarios/NAME.sh` in /tmp/NAME with VM_SCENARIO, VM_DISK (its own
# fresh, empty virtio disk) and VM_TMP set, and must exit 0 on success.

# Debian's busybox ash runs its own applets (modprobe, blockdev, blkdiscard, mke2fs, ...) before
# looking at PATH, and busybox `timeout` does the same for the program it starts. Functions win over
# applets, so the real tools get wrappers here; use the absolute paths after `timeout`.
BLKDISCARD=/usr/sbin/blkdiscard
BLOCKDEV=/usr/sbin/blockdev
MODPROBE=/usr/sbin/modprobe
NVME=/usr/sbin/nvme
blkdiscard() { /usr/sbin/blkdiscard "$@"; }
blockdev() { /usr/sbin/blockdev "$@"; }
modprobe() { /usr/sbin/modprobe "$@"; }
rmmod() { /usr/sbin/rmmod "$@"; }
lsmod() { /usr/sbin/lsmod "$@"; }
modinfo() { /usr/sbin/modinfo "$@"; }
mke2fs() { /usr/sbin/mke2fs "$@"; }

uptime_s() { cut -d' ' -f1 /proc/uptime; }

# SLIO_BINS (SLiteIO binaries put in /usr/local/bin) and SLIO_BUILD_HOST (where they came from)
[ -r /etc/slio-vm.conf ] && . /etc/slio-vm.conf

_STEP_T=$(uptime_s)
_STEP=start
# step NAME: start a named step (printed as "STEP NAME"; the previous step's duration is shown).
step() {
    _now=$(uptime_s)
    echo "STEP $1 (previous step $_STEP took $(awk "BEGIN{printf \"%.1f\", $_now-$_STEP_T}")s)"
    _STEP=$1
    _STEP_T=$_now
}

# fail MESSAGE: stop the scenario with a readable reason.
fail() {
    echo "FAIL: ${VM_SCENARIO:-?}: step $_STEP: $*" >&2
    exit 1
}

# run CMD...: echo and run a command, fail with its exit code if it fails.
run() {
    echo "+ $*"
    "$@" || fail "command failed (rc=$?): $*"
}

# wait_for SECONDS WHAT CMD...: poll CMD every 0.1 s until it succeeds; fail after SECONDS (of
# guest uptime, so a slow CMD does not stretch the limit).
# (CMD's stdout is discarded, its stderr is not: a fail() inside CMD stays readable.)
wait_for() {
    read -r _wf_up _wf_x < /proc/uptime
    _wf_end=$((${_wf_up%.*} + $1))
    _wf_secs=$1
    _wf_what=$2
    shift 2
    while ! "$@" >/dev/null; do
        read -r _wf_up _wf_x < /proc/uptime
        [ "${_wf_up%.*}" -lt $_wf_end ] || fail "timed out after ${_wf_secs}s waiting for $_wf_what"
        sleep 0.1
    done
}

# sha_of DEV|FILE MIB [SKIP_MIB]: sha256 of MIB MiB read with O_DIRECT (bypassing the page cache).
sha_of() {
    dd if="$1" bs=1M count="$2" skip="${3:-0}" iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1
}

# write_pattern FILE MIB: MIB MiB of random data into FILE (a pattern to write to devices).
write_pattern() {
    dd if=/dev/urandom of="$1" bs=1M count="$2" 2>/dev/null || fail "cannot create pattern $1"
}

# lv_json_field VG/LV FIELD: one field of `lvs --reportformat json` (e.g. data_percent).
lv_json_field() {
    lvs --reportformat json -o "$2" "$1" 2>/dev/null |
        sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p" | head -n1
}

# size_bytes DEV: the block device size in bytes.
size_bytes() {
    /usr/sbin/blockdev --getsize64 "$1"
}
