# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Helpers of the system guest's jobs (bash, sourced): steps, bounded waits, the controller's REST API.
STEP=start
step() { STEP=$1; echo "=== step $1 (t=$(cut -d' ' -f1 /proc/uptime)s)"; }
exec 3>&1
# fail WHY: the reason, then the job's on_fail (diagnostics) when it defines one; exit 1.
fail() {
    echo "FAIL [$STEP]: $*" >&3
    if declare -F on_fail >/dev/null; then on_fail >&3 2>&1 || true; fi
    exit 1
}
run() { echo "+ $*"; "$@" || fail "'$*' exited with status $?"; }
# wait_for SECONDS WHAT CMD...: CMD until it succeeds, at most SECONDS (polled every 0.5 s).
wait_for() {
    local max=$1 what=$2 end
    shift 2
    end=$((SECONDS + max))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt "$end" ] || fail "timed out after ${max}s waiting for $what"
        sleep 0.5
    done
    echo "ok: $what"
}
CTL_URL=${CTL_URL:-http://127.0.0.1:8360}
# api METHOD PATH [BODY]: one REST call with the admin token; API_CODE, API_OUT.
api() {
    local tok
    tok=$(cat /etc/sliteio/tokens/admin)
    API_OUT=$(curl -sS -m 20 -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$CTL_URL$2" 2>&1) || true
    API_CODE=${API_OUT##*$'\n'}
    API_OUT=${API_OUT%$'\n'*}
}
api_ok() {
    echo "+ $1 $2 ${3:-}"
    api "$@"
    case $API_CODE in
    2??) echo "  -> $API_CODE" ;;
    *) fail "$1 $2: HTTP $API_CODE: $API_OUT" ;;
    esac
}
phase_is() { # phase_is KIND ID PHASE
    api GET "/v1/$1/$2"
    local ph
    ph=$(jq -r '.phase // empty' <<<"$API_OUT" 2>/dev/null)
    [ "$ph" != failed ] || fail "$1 $2 failed: $(jq -r '.message // empty' <<<"$API_OUT")"
    [ "$ph" = "$3" ]
}
unit_active() { [ "$(systemctl is-active "$1")" = active ]; }
