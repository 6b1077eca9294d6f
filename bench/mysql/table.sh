#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# bench/mysql/table.sh RESULTS.tsv: the TPS table (Markdown) of bench/mysql/run's results
# (lines "target<TAB>workload<TAB>threads<TAB>tps") with each remote target's ratio to the local LV.
set -euo pipefail
[ -s "${1:-}" ] || { echo "usage: $0 results.tsv" >&2; exit 2; }
awk -F'\t' '
    { tps[$1 "|" $2 "|" $3] = $4
      if (!($2 "|" $3 in seen)) { seen[$2 "|" $3] = 1; rows[++n] = $2 "|" $3 }
      if (!($1 in tseen)) { tseen[$1] = 1; tg[++m] = $1 } }
    END {
        hdr = "| workload | threads |"; sep = "|---|---:|"
        for (j = 1; j <= m; j++) { hdr = hdr " " tg[j] " TPS |"; sep = sep "---:|" }
        for (j = 1; j <= m; j++) if (tg[j] != "local" && ("local" in tseen)) {
            hdr = hdr " " tg[j] "/local |"; sep = sep "---:|" }
        print hdr; print sep
        for (i = 1; i <= n; i++) {
            split(rows[i], r, "|"); line = "| " r[1] " | " r[2] " |"
            for (j = 1; j <= m; j++) {
                k = tg[j] "|" rows[i]
                line = line ((k in tps) ? sprintf(" %.1f |", tps[k]) : " - |")
            }
            for (j = 1; j <= m; j++) if (tg[j] != "local" && ("local" in tseen)) {
                k = tg[j] "|" rows[i]; l = "local|" rows[i]
                line = line ((k in tps && l in tps && tps[l] > 0) ? sprintf(" %.2f |", tps[k] / tps[l]) : " - |")
            }
            print line
        }
    }' "$1"
