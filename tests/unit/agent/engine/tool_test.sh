#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# slio-engine-tool on the file engine: JSON out, exit status 0/1/2, the engine's refusals.
set -euo pipefail
tool=${1:?usage: tool_test.sh SLIO_ENGINE_TOOL}
[ -x "$tool" ] || { echo "tool_test: $tool is missing" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/agent.yaml" <<YAML
pool:
  name: demo
  engine: file
  file: {dir: $dir/pool, capacity: 1Gi}
YAML
V=11111111-1111-4111-8111-111111111111
S=22222222-2222-4222-8222-222222222222
C=33333333-3333-4333-8333-333333333333
t() { "$tool" -c "$dir/agent.yaml" "$@"; }
field() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
expect_rc() { local want=$1; shift; set +e; "$@" >/dev/null 2>"$dir/err"; local rc=$?; set -e
    [ $rc -eq "$want" ] || { echo "FAIL: $* -> $rc, wanted $want"; cat "$dir/err"; exit 1; }; }

[ "$(t create $V 64Mi --thin --name pvc-1 | field '["size"]')" = 67108864 ]
[ "$(t create $V 64Mi --thin | field '["state"]')" = ready ]             # idempotent
expect_rc 1 t create $V 128Mi --thin                                      # other shape
grep -q "exists" "$dir/err"
printf 'hello' | dd of="$dir/pool/volumes/$V.img" conv=notrunc status=none
[ "$(t snapshot $V $S | field '["origin"]')" = $V ]
[ "$(t create $C 0 --thin --from-snapshot $S 2>/dev/null | field '["size"]')" = 67108864 ]
[ "$(head -c 5 "$dir/pool/volumes/$C.img")" = hello ]
[ "$(t list | field '.__len__()')" = 3 ]
[ "$(t status | field '["allocated"]')" = $((3 * 64 << 20)) ]
expect_rc 1 t delete $V                                                   # has a snapshot
grep -q "has snapshots" "$dir/err"
[ "$(t expand $C 128Mi | field '["size"]')" = 134217728 ]
expect_rc 1 t expand $C 1Mi
t delete-snapshot $S >/dev/null
t delete $V --discard >/dev/null
t delete $C >/dev/null
t delete $C >/dev/null                                                    # idempotent
[ "$(t list | field '.__len__()')" = 0 ]
expect_rc 2 t frobnicate
expect_rc 2 t create not-a-uuid 1Gi
expect_rc 2 "$tool" status
echo "bad: [" >"$dir/bad.yaml"
expect_rc 2 "$tool" -c "$dir/bad.yaml" status
echo "tool_test: ok"
