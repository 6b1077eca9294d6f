# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Job of the system guest (tests/vm/system/run bench-mysql ARGS): slio-tgt from its package (the
# unit starts it on /run/slio-tgt/rpc.sock), then bench/mysql/run --host ARGS; the results and
# logs go to /payload/out, which tests/vm/system/run copies back to the host.
ls debs/slio-tgt_*.deb >/dev/null 2>&1 || { echo "FAIL: no slio-tgt .deb in the payload (make deb)"; exit 1; }
DEBIAN_FRONTEND=noninteractive apt-get install -q -y -o Dpkg::Use-Pty=0 "$PWD"/debs/slio-tgt_*.deb
for _ in $(seq 1 60); do [ -S /run/slio-tgt/rpc.sock ] && break; sleep 0.5; done
[ -S /run/slio-tgt/rpc.sock ] || { systemctl status slio-tgt; echo "FAIL: slio-tgt.service has no socket"; exit 1; }
mkdir -p /payload/out
bash bench/run "$@" --out /payload/out
