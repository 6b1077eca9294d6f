# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Job of the system guest (tests/vm/system/run deb-install): a clean Debian 12 with systemd gets
# the .debs of `make deb` (apt-get, offline: their dependencies are in the image) and must give a
# working single node with the packaged default configuration: units active, the file pool
# reported, a volume created through the REST API turns ready; restart and stop are clean; no
# unit logs a permission problem (hardening). Then the agent is switched to an LVM pool on the
# spare disk (/dev/vdc) and a thick volume is carved there. Runs under bash -e in /payload.
# shellcheck source=syslib.sh
. ./syslib.sh
UNITS=(slio-tgt slio-controller slio-agent)
SLIOCTL=(slioctl --server "$CTL_URL" --token-file /etc/sliteio/tokens/admin)
DATA=/dev/vdc

on_fail() {
    echo "--- diagnostics"
    systemctl --no-pager status "${UNITS[@]}" | head -n 40
    "${SLIOCTL[@]}" get pools
    pvs; vgs; lvs -a
    ls -ld /etc/lvm/* /run/lvm /run/lock 2>&1
    for u in "${UNITS[@]}"; do
        echo "--- journal of $u (last 30 lines)"
        journalctl -q -b -u "$u" --no-pager | tail -n 30
    done
}
journal_check() { # no unit may log a denied access: hardening too tight
    local u bad
    for u in "${UNITS[@]}"; do
        bad=$(journalctl -q -b -u "$u" --no-pager |
              grep -Ei 'permission denied|operation not permitted|read-only file system|EACCES|EPERM|EROFS' || true)
        [ -z "$bad" ] || { journalctl -q -b -u "$u" --no-pager | tail -n 40; fail "$u logged: $bad"; }
    done
    echo "ok: no unit logged a denied access"
}
all_active() {
    local u
    for u in "${UNITS[@]}"; do
        wait_for 60 "$u active" unit_active "$u"
    done
}
pool_listed() { "${SLIOCTL[@]}" get pools 2>/dev/null | grep -q "$1"; }
vol_create() { # vol_create NAME SIZE [EXTRA_JSON_FIELDS]: VOL_ID once ready
    api_ok POST /v1/volumes "{\"name\": \"$1\", \"size\": $2${3:+, $3}}"
    VOL_ID=$(jq -r '.id' <<<"$API_OUT")
    [ -n "$VOL_ID" ] && [ "$VOL_ID" != null ] || fail "no id in the answer: $API_OUT"
    wait_for 120 "volume $1 ($VOL_ID) ready" phase_is volumes "$VOL_ID" ready
    api GET "/v1/volumes/$VOL_ID"
    echo "volume $1: $API_OUT"
}
stopped_clean() { # every unit inactive (not failed), its main process exited 0 or by SIGTERM
    local u st res
    for u in "${UNITS[@]}"; do
        st=$(systemctl is-active "$u" || true)
        res=$(systemctl show -p Result --value "$u")
        echo "$u: $st, Result=$res, $(systemctl show -p ExecMainCode -p ExecMainStatus "$u" | tr '\n' ' ')"
        [ "$st" = inactive ] && [ "$res" = success ] || fail "$u did not stop cleanly ($st, $res)"
    done
}

step install
echo "$(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), systemd $(systemctl --version | head -n1)"
ls -l debs/
# Offline (no network card): apt must find every dependency installed already.
run env DEBIAN_FRONTEND=noninteractive apt-get install -q -y -o Dpkg::Use-Pty=0 \
    "$PWD"/debs/*.deb
dpkg-query -W 'slio*'

step postinst
getent passwd sliteio || fail "no system user sliteio"
for t in admin csi agent readonly; do
    f=/etc/sliteio/tokens/$t
    [ -s "$f" ] || fail "token $f missing"
    [ "$(stat -c '%U:%G %a' "$f")" = "root:sliteio 640" ] || fail "$f: $(stat -c '%U:%G %a' "$f")"
done
for u in "${UNITS[@]}"; do
    [ "$(systemctl is-enabled "$u")" = enabled ] || fail "$u not enabled"
done
for u in slio-csi-node slio-csi-controller; do
    [ "$(systemctl is-enabled "$u")" = disabled ] || fail "$u should be installed disabled"
done

step start
all_active
wait_for 90 "slioctl get pools shows node-1-file" pool_listed node-1-file
"${SLIOCTL[@]}" get nodes
"${SLIOCTL[@]}" get pools

step volume
vol_create deb-vol1 $((64 * 1024 * 1024))
V1=$VOL_ID
"${SLIOCTL[@]}" get volumes
ls -l /var/lib/sliteio/pool/ || true
journal_check

step restart
run systemctl restart slio-tgt slio-controller slio-agent
all_active
wait_for 90 "node-1-file back after the restart" pool_listed node-1-file
wait_for 60 "deb-vol1 still ready" phase_is volumes "$V1" ready
vol_create deb-vol2 $((32 * 1024 * 1024))
api_ok DELETE "/v1/volumes/$VOL_ID"
gone() { api GET "/v1/volumes/$1"; [ "$API_CODE" = 404 ]; }
wait_for 60 "deb-vol2 deleted" gone "$VOL_ID"
journal_check

step stop
run systemctl stop slio-agent slio-controller slio-tgt
stopped_clean
run systemctl start slio-tgt slio-controller slio-agent
all_active
wait_for 60 "deb-vol1 ready after stop/start" phase_is volumes "$V1" ready

step lvm-pool
# The agent switched to an LVM pool on the spare disk, through its packaged config file.
[ -b "$DATA" ] || fail "no spare disk $DATA"
api_ok DELETE "/v1/volumes/$V1"
wait_for 60 "deb-vol1 deleted" gone "$V1"
run systemctl stop slio-agent
cat > /etc/sliteio/agent.yaml <<YAML
node:
  name: node-1
listen: {address: 127.0.0.1, port: 9361}
export: {traddr: 127.0.0.1, trsvcid: 4420, adrfam: ipv4}
controller:
  urls: ["http://127.0.0.1:8360"]
  token_file: /etc/sliteio/tokens/agent
target:
  kind: slio-tgt
  socket: /run/slio-tgt/rpc.sock
pool:
  name: node-1-lvm
  engine: lvm
  lvm:
    vg: slio
    devices: [$DATA]
    thin: {pool: thin0, size: 2Gi}
YAML
run slio-agent --check-config -c /etc/sliteio/agent.yaml
# The agent re-registers with node-1-lvm only: the empty node-1-file pool it no longer reports
# leaves the cluster (a pool still holding volumes would stay listed as unreported and never be
# offered to the scheduler), so the volumes below must land on node-1-lvm.
run systemctl start slio-agent
wait_for 60 "slio-agent active" unit_active slio-agent
wait_for 120 "slioctl get pools shows node-1-lvm" pool_listed node-1-lvm
pool_unlisted() { ! pool_listed "$1"; }
wait_for 60 "the dropped, empty node-1-file left the pool list" pool_unlisted node-1-file
"${SLIOCTL[@]}" get pools
# A pool with a thin pool serves thin volumes only (the scheduler: "thin pool for a thick").
vol_create deb-thin1 $((128 * 1024 * 1024)) '"thin": true'
vol_create deb-thin2 $((64 * 1024 * 1024)) '"thin": true'
lvs -o lv_name,lv_size,pool_lv,lv_tags slio
[ "$(lvs --noheadings -o lv_name -S 'pool_lv=thin0' slio | wc -l)" = 2 ] || fail "expected 2 thin LVs in slio"
journal_check
run systemctl restart slio-agent
wait_for 60 "slio-agent active" unit_active slio-agent
wait_for 60 "deb-thin2 still ready" phase_is volumes "$VOL_ID" ready
journal_check

step final-stop
run systemctl stop slio-agent slio-controller slio-tgt
stopped_clean
for u in "${UNITS[@]}"; do
    echo "--- journal of $u (last 8 lines)"
    journalctl -q -b -u "$u" --no-pager | tail -n 8
done
echo "deb-install: all steps passed"
