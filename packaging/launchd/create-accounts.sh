#!/bin/sh
# agent-receipts accounts on macOS (what systemd-sysusers does on Linux):
# groups agentreceipts-read (auditors) and agentreceipts-emit (agents), and
# the hidden daemon user agentreceipts. Creates only what is missing; run as root.
# The daemon user also joins group "daemon", which may create /var/run/agentreceipts after a reboot.
set -eu

free_id() { # first id from 300 up that is neither a uid nor a gid
  id=300
  while dscl . -list /Users UniqueID | awk '{print $2}' | grep -qx "$id" ||
    dscl . -list /Groups PrimaryGroupID | awk '{print $2}' | grep -qx "$id"; do
    id=$((id + 1))
  done
  echo "$id"
}

ensure_group() {
  if ! dscl . -read "/Groups/$1" >/dev/null 2>&1; then
    gid=$(free_id)
    dscl . -create "/Groups/$1"
    dscl . -create "/Groups/$1" PrimaryGroupID "$gid"
    dscl . -create "/Groups/$1" RealName "$2"
    echo "created group $1 ($gid)"
  fi
}

ensure_group agentreceipts-read "agent-receipts auditors"
ensure_group agentreceipts-emit "agent-receipts emitters"

if ! dscl . -read /Users/agentreceipts >/dev/null 2>&1; then
  uid=$(free_id)
  dscl . -create /Users/agentreceipts
  dscl . -create /Users/agentreceipts UniqueID "$uid"
  dscl . -create /Users/agentreceipts PrimaryGroupID "$(dscl . -read /Groups/agentreceipts-read PrimaryGroupID | awk '{print $2}')"
  dscl . -create /Users/agentreceipts UserShell /usr/bin/false
  dscl . -create /Users/agentreceipts NFSHomeDirectory /var/empty
  dscl . -create /Users/agentreceipts RealName "agent-receipts signing daemon"
  dscl . -create /Users/agentreceipts IsHidden 1
  echo "created user agentreceipts ($uid)"
fi
dseditgroup -o edit -a agentreceipts -t user agentreceipts-emit
dseditgroup -o edit -a agentreceipts -t user daemon
