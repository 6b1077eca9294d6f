# SPDX-License-Identifier: Apache-2.0
# vm-kernel: bpo
# NVMe in-band authentication (DH-HMAC-CHAP) between the Linux kernel's NVMe/TCP host and slio-tgt.
# Needs the bookworm-backports kernel (6.12: CONFIG_NVME_AUTH=m, NVME_HOST_AUTH, NVME_TARGET_AUTH,
# RFC 7919 groups); Debian 12's 6.1 cannot authenticate. Keys come from nvme-cli's gen-dhchap-key,
# the key files are 0600. Checks: the right host key connects (every queue authenticated) and data
# written through it reads back; a wrong key and a missing key are refused; a controller key
# (bidirectional) connects and a wrong controller key makes the host refuse the target; each hash
# (sha256/384/512) and each DH group (null, ffdhe2048..8192) chosen by the target's nvmf_set_config
# with the connect time of each; key rotation (nvmf_subsystem_set_keys): the connected host
# re-authenticates with its new key through sysfs, the old key is refused, the new one connects;
# as a reference the kernel's own nvmet accepts the same host key and refuses a wrong one.
. /usr/lib/slio-vm/lib.sh
. /usr/lib/slio-vm/tgt-lib.sh
. /usr/lib/slio-vm/nvme-host.sh

TGT=/usr/local/bin/slio-tgt
RPC=/usr/local/bin/slio-tgt-rpc
SOCK=/run/slio-tgt.sock
NQN=nqn.2024-01.io.slite:auth1
HOSTNQN=$(cat /etc/nvme/hostnqn)
HOSTID=$(cat /etc/nvme/hostid)
TGT_LOG=$VM_TMP/slio-tgt.log
KEYS=$VM_TMP/keys
TGT_PID=
NVMET=/sys/kernel/config/nvmet
NVMET_SUB=$NVMET/subsystems/nqn.2024-01.io.slite:knvmet
NVMET_PORT=$NVMET/ports/2
NVMET_HOST=$NVMET/hosts/$HOSTNQN

step binaries
for b in "$TGT" "$RPC"; do
    [ -x "$b" ] || fail "$(basename "$b") is not in the guest: it is not built in $SLIO_BUILD_HOST"
done
modprobe nvme_auth 2>/dev/null ||
    fail "kernel $(uname -r) has no nvme_auth module: run with VM_KERNEL=bpo (tests/vm/README.md)"
echo "kernel $(uname -r), nvme-cli $($NVME version | head -n 1)"

nvmet_teardown() {
    [ -d "$NVMET_SUB" ] || return 0
    rm -f "$NVMET_PORT/subsystems/${NVMET_SUB##*/}" "$NVMET_SUB/allowed_hosts/$HOSTNQN"
    echo 0 > "$NVMET_SUB/namespaces/1/enable" 2>/dev/null
    rmdir "$NVMET_SUB/namespaces/1" "$NVMET_SUB" "$NVMET_PORT" "$NVMET_HOST" 2>/dev/null
    return 0
}
cleanup() {
    rc=$?
    trap - EXIT
    if [ $rc -ne 0 ]; then
        echo "---- cleanup after failure"
        tgt_log_tail
        timeout 20 $NVME disconnect-all 2>/dev/null
        nvmet_teardown
        tgt_stop_hard
    fi
    exit $rc
}
trap cleanup EXIT

# gen_key NAME HMAC NQN: a DH-HMAC-CHAP secret from nvme-cli in $KEYS/NAME (mode 0600); prints it.
gen_key() {
    (umask 077 && $NVME gen-dhchap-key -m "$2" -n "$3" > "$KEYS/$1") ||
        fail "nvme gen-dhchap-key -m $2 -n $3 failed"
    grep -q '^DHHC-1:0[0-3]:[A-Za-z0-9+/=]*:$' "$KEYS/$1" || fail "key $1 is not a DHHC-1 secret: $(cat "$KEYS/$1")"
    cat "$KEYS/$1"
}
# log_count TEXT: how many lines of the slio-tgt log hold TEXT (fixed string).
log_count() { grep -cF -- "$1" "$TGT_LOG" || true; }
# expect_log TEXT BEFORE MIN WHAT: at least MIN new log lines with TEXT since the count BEFORE.
expect_log() {
    _n=$(($(log_count "$1") - $2))
    [ $_n -ge "$3" ] || { tgt_log_tail; fail "$4: slio-tgt logged \"$1\" $_n times, expected >= $3"; }
}
# rw_check MIB: write MIB MiB of a fresh pattern to NS_DEV through the connection, read it back.
rw_check() {
    write_pattern "$VM_TMP/pat" "$1"
    run dd if="$VM_TMP/pat" of="$NS_DEV" bs=1M oflag=direct status=none
    [ "$(sha_of "$NS_DEV" "$1")" = "$(sha256sum < "$VM_TMP/pat" | cut -d' ' -f1)" ] ||
        fail "$1 MiB written through the authenticated connection do not read back"
    echo "$1 MiB written and read back through $NS_DEV"
}
no_ctrl() { [ "$(nvme_ctrl_count "$1")" = 0 ] || fail "a kernel controller of $1 exists after a refused connect"; }
# connect_timed NQN OPTIONS...: nvme_connect, its time in CONNECT_SECS.
connect_timed() {
    _ct0=$(uptime_s)
    nvme_connect "$@"
    CONNECT_SECS=$(awk "BEGIN{printf \"%.2f\", $(uptime_s)-$_ct0}")
}

step crypto-selftest
# The first use of each ffdheN(dh) in the kernel runs its crypto self-test (full-size modular
# exponentiations in generic C: ~10 s for ffdhe6144 and longer than slio-tgt's 30 s step timeout
# for ffdhe8192 under TCG), then every later use takes a few seconds at most. nvmet's configfs
# host attribute dhchap_dhgroup looks the algorithm up (crypto_has_kpp) and so runs that test
# once, here, where it is timed apart from the connects. A lookup waits at most 60 s for the test;
# the test itself carries on, so it is asked again.
mkdir "$NVMET_HOST" || fail "cannot create nvmet host $HOSTNQN"
for g in ffdhe2048 ffdhe3072 ffdhe4096 ffdhe6144 ffdhe8192; do
    _t0=$(uptime_s)
    i=0
    until echo "$g" > "$NVMET_HOST/dhchap_dhgroup" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 4 ] || fail "the kernel cannot instantiate $g(dh)"
    done
    echo "kernel $g(dh) ready (self-test on first use) in $(awk "BEGIN{printf \"%.1f\", $(uptime_s)-$_t0}")s"
done
grep -A6 'name *: ffdhe8192(dh)' /proc/crypto | grep -q 'selftest *: passed' ||
    fail "ffdhe8192(dh) has not passed its self-test: $(grep -A4 'ffdhe8192' /proc/crypto)"

step start-target
mkdir -p "$KEYS"
chmod 700 "$KEYS"
rm -f "$SOCK"
echo "+ slio-tgt -r $SOCK >> $TGT_LOG &"
"$TGT" -r "$SOCK" >> "$TGT_LOG" 2>&1 &
TGT_PID=$!
wait_for 10 "slio-tgt to listen on $SOCK" tgt_ready
rpc nvmf_create_transport '{"trtype": "TCP"}'
rpc bdev_malloc_create '{"name": "m0", "num_blocks": 65536, "block_size": 512}'
rpc nvmf_create_subsystem "{\"nqn\": \"$NQN\", \"allow_any_host\": false}"
rpc nvmf_subsystem_add_ns "{\"nqn\": \"$NQN\", \"namespace\": {\"bdev_name\": \"m0\"}}"
ADDR="{\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"$TRADDR\", \"trsvcid\": \"$TRSVCID\"}"
rpc nvmf_subsystem_add_listener "{\"nqn\": \"$NQN\", \"listen_address\": $ADDR}"
# Until step hashes-groups: the strongest hash and ffdhe2048 (the default would pick ffdhe8192,
# which costs the kernel host seconds per queue under TCG).
DEFAULT_CFG='{"dhchap_digests": ["sha256", "sha384", "sha512"], "dhchap_dhgroups": ["ffdhe2048"]}'
rpc nvmf_set_config "$DEFAULT_CFG"

step keys
HS=$(gen_key host1 1 "$HOSTNQN")
CS=$(gen_key ctrl1 1 "$NQN")
WRONG=$(gen_key wrong 1 "$HOSTNQN")
WRONGC=$(gen_key wrongc 1 "$NQN")
ls -l "$KEYS"
[ "$(stat -c %a "$KEYS/host1")" = 600 ] || fail "key file mode is $(stat -c %a "$KEYS/host1"), not 600"
rpc keyring_file_add_key "{\"name\": \"host1\", \"path\": \"$KEYS/host1\"}"
rpc keyring_file_add_key "{\"name\": \"ctrl1\", \"path\": \"$KEYS/ctrl1\"}"
rpc nvmf_subsystem_add_host "{\"nqn\": \"$NQN\", \"host\": \"$HOSTNQN\", \"dhchap_key\": \"host1\"}"

step right-key
# The kernel host authenticates the admin queue and each I/O queue (2 with 2 vCPUs).
n0=$(log_count "authenticated (")
connect_timed "$NQN" --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS"
expect_log "authenticated (" "$n0" 3 "admin + 2 I/O queues"
grep -F "authenticated (" "$TGT_LOG" | tail -n 3
rw_check 16
SUM=$(sha_of "$NS_DEV" 16)
nvme_disconnect "$NQN"

step refused
n0=$(log_count "authentication failed")
nvme_connect_must_fail "$NQN" 20 --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$WRONG"
no_ctrl "$NQN"
expect_log "authentication failed" "$n0" 1 "wrong host key"
echo "wrong key: $(grep -F 'authentication failed' "$TGT_LOG" | tail -n 1)"
# the host is allowed with a key, but connects without one: the Connect response asks for
# authentication (AUTHREQ.ATR) and the kernel host gives up
nvme_connect_must_fail "$NQN" 20 --hostnqn "$HOSTNQN" --hostid "$HOSTID"
no_ctrl "$NQN"
# another host NQN with the right key is still refused by the ACL
U=$(cat /proc/sys/kernel/random/uuid)
nvme_connect_must_fail "$NQN" 20 --hostnqn "nqn.2014-08.org.nvmexpress:uuid:$U" --hostid "$U" \
    --dhchap-secret "$HS"
no_ctrl "$NQN"
kill -0 "$TGT_PID" || fail "slio-tgt died during the refused connects"

step bidirectional
rpc nvmf_subsystem_set_keys \
    "{\"nqn\": \"$NQN\", \"host\": \"$HOSTNQN\", \"dhchap_key\": \"host1\", \"dhchap_ctrlr_key\": \"ctrl1\"}"
n0=$(log_count "authenticated both ways")
connect_timed "$NQN" --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS" \
    --dhchap-ctrl-secret "$CS"
expect_log "authenticated both ways" "$n0" 3 "controller key on every queue"
[ "$(sha_of "$NS_DEV" 16)" = "$SUM" ] || fail "the data written by the first association changed"
rw_check 8
nvme_disconnect "$NQN"
# the host checks the controller's response: a target that cannot prove the key is refused
n0=$(log_count "refused the controller's response")
nvme_connect_must_fail "$NQN" 20 --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS" \
    --dhchap-ctrl-secret "$WRONGC"
no_ctrl "$NQN"
expect_log "refused the controller's response" "$n0" 1 "wrong controller key"

step hashes-groups
# The target allows exactly one hash and one group per connect, so the kernel host must do each.
# Each group once, the three hashes twice each; one I/O queue to keep ffdhe8192 affordable.
TIMES=""
for hg in sha256:null sha384:ffdhe2048 sha512:ffdhe3072 sha256:ffdhe4096 sha384:ffdhe6144 \
          sha512:ffdhe8192; do
    h=${hg%%:*}
    g=${hg#*:}
    rpc nvmf_set_config "{\"dhchap_digests\": [\"$h\"], \"dhchap_dhgroups\": [\"$g\"]}"
    n0=$(log_count "authenticated both ways ($h, $g)")
    connect_timed "$NQN" --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS" \
        --dhchap-ctrl-secret "$CS" --nr-io-queues 1
    expect_log "authenticated both ways ($h, $g)" "$n0" 2 "$h with $g"
    # and the kernel host agrees on what was negotiated
    dmesg | tail -n 30 | grep -q "authenticated with hash hmac($h) dhgroup $g" ||
        fail "the kernel host does not report hmac($h) with $g: $(dmesg | grep authenticated | tail -n 2)"
    [ "$(sha_of "$NS_DEV" 8)" = "$(sha256sum < "$VM_TMP/pat" | cut -d' ' -f1)" ] ||
        fail "data read with $h/$g differ"
    nvme_disconnect "$NQN"
    TIMES="$TIMES $h/$g=${CONNECT_SECS}s"
done
echo "connect times (2 queues, bidirectional):$TIMES"
rpc nvmf_set_config "$DEFAULT_CFG"

step rotation
# Connected with host1; the target rotates to host2 (a SHA-512-transformed key); the connected
# host takes its new secret through sysfs, which makes it re-authenticate its admin queue with it:
# the association stays live. The old key then no longer connects, the new one does.
HS2=$(gen_key host2 3 "$HOSTNQN")
connect_timed "$NQN" --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS" \
    --dhchap-ctrl-secret "$CS" --nr-io-queues 1
CTRL_SYS=$(nvme_ctrls_of "$NQN" | head -n 1)
CNTLID=$(cat "$CTRL_SYS/cntlid")
rpc keyring_file_add_key "{\"name\": \"host2\", \"path\": \"$KEYS/host2\"}"
rpc nvmf_subsystem_set_keys \
    "{\"nqn\": \"$NQN\", \"host\": \"$HOSTNQN\", \"dhchap_key\": \"host2\", \"dhchap_ctrlr_key\": \"ctrl1\"}"
n0=$(log_count "qid 0 authenticated both ways")
echo "+ echo <host2 secret> > $CTRL_SYS/dhchap_secret"
echo "$HS2" > "$CTRL_SYS/dhchap_secret" || fail "the kernel host refused its new secret"
reauth() { [ "$(($(log_count "qid 0 authenticated both ways") - n0))" -ge 1 ]; }
wait_for 20 "the kernel host to re-authenticate with the new key" reauth
sleep 1
[ "$(cat "$CTRL_SYS/state")" = live ] || fail "controller $(cat "$CTRL_SYS/state") after re-authentication"
[ "$(cat "$CTRL_SYS/cntlid")" = "$CNTLID" ] ||
    fail "the host reconnected (cntlid $CNTLID -> $(cat "$CTRL_SYS/cntlid")) instead of re-authenticating"
[ "$(sha_of "$NS_DEV" 8)" = "$(sha256sum < "$VM_TMP/pat" | cut -d' ' -f1)" ] ||
    fail "data read after the re-authentication differ"
echo "re-authenticated with host2 and still live: $(grep -F 'qid 0 authenticated both ways' "$TGT_LOG" | tail -n 1)"
nvme_disconnect "$NQN"
nvme_connect_must_fail "$NQN" 20 --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS"
no_ctrl "$NQN"
connect_timed "$NQN" --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS2" \
    --dhchap-ctrl-secret "$CS" --nr-io-queues 1
rw_check 4
nvme_disconnect "$NQN"
rpc keyring_file_remove_key '{"name": "host1"}'

step stop-target
rpc nvmf_delete_subsystem "{\"nqn\": \"$NQN\"}"
kill -TERM "$TGT_PID"
trc=0
timeout -k 2 10 sh -c "while kill -0 $TGT_PID 2>/dev/null; do sleep 0.1; done" || trc=$?
[ $trc -eq 0 ] || fail "slio-tgt still running 10 s after SIGTERM"
wait "$TGT_PID" || { tgt_log_tail; fail "slio-tgt exited with an error after SIGTERM"; }
TGT_PID=
grep -F -e "$(cut -d: -f3 "$KEYS/host1" | cut -c1-16)" -e "$(cut -d: -f3 "$KEYS/host2" | cut -c1-16)" \
    "$TGT_LOG" && fail "key material in the slio-tgt log"
echo "slio-tgt stopped; no key material in its log"

step nvmet-reference
# The kernel's own target with the same host key: proves the kernel host's side is set up the way
# nvmet expects, too. Port 4421 (slio-tgt used 4420).
echo "$HS2" > "$NVMET_HOST/dhchap_key" || fail "nvmet refused the host key"
echo "hmac(sha512)" > "$NVMET_HOST/dhchap_hash"
echo ffdhe3072 > "$NVMET_HOST/dhchap_dhgroup"
mkdir "$NVMET_SUB"
echo 0 > "$NVMET_SUB/attr_allow_any_host"
ln -s "$NVMET_HOST" "$NVMET_SUB/allowed_hosts/$HOSTNQN"
mkdir "$NVMET_SUB/namespaces/1"
echo -n "$VM_DISK" > "$NVMET_SUB/namespaces/1/device_path"
echo 1 > "$NVMET_SUB/namespaces/1/enable" || fail "cannot enable the nvmet namespace"
mkdir "$NVMET_PORT"
echo tcp > "$NVMET_PORT/addr_trtype"
echo ipv4 > "$NVMET_PORT/addr_adrfam"
echo "$TRADDR" > "$NVMET_PORT/addr_traddr"
echo 4421 > "$NVMET_PORT/addr_trsvcid"
ln -s "$NVMET_SUB" "$NVMET_PORT/subsystems/${NVMET_SUB##*/}"
TRSVCID=4421
nvme_connect_must_fail "${NVMET_SUB##*/}" 20 --hostnqn "$HOSTNQN" --hostid "$HOSTID" \
    --dhchap-secret "$WRONG"
no_ctrl "${NVMET_SUB##*/}"
connect_timed "${NVMET_SUB##*/}" --hostnqn "$HOSTNQN" --hostid "$HOSTID" --dhchap-secret "$HS2" \
    --nr-io-queues 1
rw_check 4
nvme_disconnect "${NVMET_SUB##*/}"
nvmet_teardown
[ ! -d "$NVMET_SUB" ] || fail "nvmet subsystem left behind"
echo "auth scenario: all steps passed"
