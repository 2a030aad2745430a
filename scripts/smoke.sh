#!/usr/bin/env bash
# Smoke run of a built binary: --version, a daemon start, one emit, one verify.
#   bash scripts/smoke.sh [BINARY]   (default dist/agent-receipts)
set -euo pipefail
bin=$(realpath "${1:-dist/agent-receipts}")
work=$(mktemp -d)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

want=$(node -p 'require("./package.json").version')
got=$("$bin" --version)
[ "$got" = "$want" ] || { echo "smoke: --version printed '$got', package.json says '$want'" >&2; exit 1; }

mkdir -m 0700 "$work/run"
export AGENTRECEIPTS_SOCKET="$work/run/events.sock"
"$bin" daemon --socket "$AGENTRECEIPTS_SOCKET" --db "$work/receipts.db" --key "$work/signing.key" --unsafe-socket-path 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -S "$AGENTRECEIPTS_SOCKET" ] && break; sleep 0.05; done
[ -S "$AGENTRECEIPTS_SOCKET" ] || { echo "smoke: the daemon did not listen:" >&2; cat "$work/daemon.log" >&2; exit 1; }

"$bin" emit --tool smoke_test --input '{"ok":true}'
kill -TERM "$daemon_pid"
wait "$daemon_pid"
daemon_pid=
"$bin" verify --db "$work/receipts.db" --public-key "$work/signing.key.pub"
echo "smoke: $bin $got: daemon, emit and verify passed"
