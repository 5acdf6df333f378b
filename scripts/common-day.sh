#!/usr/bin/env bash
# An Exchange administrator's common day, run with exoctl against a freshly started emulator
# (the README's "An admin's day" section is this script): find the shared mailboxes with
# -Filter, grant Full Access and Send As, add people to a distribution group, change quotas for
# a CSV of users with exoctl bulk, write a transport rule, and read it all back. Every step
# checks what the emulator answered. Talks to 127.0.0.1 only; a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $emu_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export EXOCTL_HOME="$work/home"
command -v jq >/dev/null || { echo "needs jq: apt-get install -y jq" >&2; exit 1; }

go build -o "$work/exoctl" ./cmd/exoctl
go build -o "$work/exoctl-emulator" ./cmd/exoctl-emulator
exoctl() { "$work/exoctl" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

"$work/exoctl-emulator" emulator start --addr 127.0.0.1:0 --data "$work/emu" >"$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 1 300); do [ -f "$work/emu/emulator.json" ] && break; sleep 0.1; done
[ -f "$work/emu/emulator.json" ] || { cat "$work/emu.log"; fail "the emulator did not start"; }
exoctl connect --emulator "$work/emu" >/dev/null

echo "== the shared mailboxes"
exoctl run -o json Get-Mailbox -Filter "RecipientTypeDetails -eq 'SharedMailbox'" -ResultSize Unlimited >"$work/shared.json"
shared=$(jq length "$work/shared.json")
[ "$shared" -eq 12 ] || fail "$shared shared mailboxes, want 12"
box=$(jq -r '.[0].Name' "$work/shared.json")
echo "$shared shared mailboxes; working on \"$box\""

echo "== Full Access and Send As for Adele"
exoctl run Add-MailboxPermission -Identity "$box" -User adele.vance@contoso.com -AccessRights FullAccess -InheritanceType All >/dev/null
exoctl run Add-RecipientPermission -Identity "$box" -Trustee adele.vance@contoso.com -AccessRights SendAs '-Confirm:$false' >/dev/null
exoctl run -o json Get-MailboxPermission -Identity "$box" -User adele.vance@contoso.com |
  jq -e '.[0].AccessRights == ["FullAccess"]' >/dev/null || fail "no Full Access"
exoctl run -o json Get-RecipientPermission -Identity "$box" -Trustee adele.vance@contoso.com |
  jq -e '.[0].AccessRights == ["SendAs"]' >/dev/null || fail "no Send As"

echo "== a distribution group with two people"
exoctl run New-DistributionGroup -Name "Night Shift" -Members lee.gu@contoso.com >/dev/null
exoctl run Add-DistributionGroupMember -Identity "Night Shift" -Member megan.bowen@contoso.com >/dev/null
members=$(exoctl run -o json Get-DistributionGroupMember -Identity "Night Shift" | jq length)
[ "$members" -eq 2 ] || fail "$members members, want 2"

echo "== quotas for a CSV of users, with exoctl bulk"
cat >"$work/quotas.csv" <<'CSV'
User,Warning,Send,SendReceive
adele.vance@contoso.com,40GB,45GB,50GB
lee.gu@contoso.com,18GB,19GB,20GB
megan.bowen@contoso.com,90GB,95GB,99GB
CSV
exoctl bulk --csv "$work/quotas.csv" -- \
  'Set-Mailbox -Identity {User} -IssueWarningQuota {Warning} -ProhibitSendQuota {Send} -ProhibitSendReceiveQuota {SendReceive}' >"$work/bulk.out"
[ "$(grep -c '"status":"ok"' "$work/bulk.out")" -eq 3 ] || { cat "$work/bulk.out"; fail "bulk quotas"; }
exoctl run -o json Get-Mailbox -Identity lee.gu@contoso.com |
  jq -e '.[0].ProhibitSendQuota == "19 GB (20,401,094,656 bytes)"' >/dev/null || fail "quota not changed"

echo "== the accepted domains (Exchange Online adds domains through Microsoft 365, not a cmdlet)"
exoctl run -o json Get-AcceptedDomain | jq -e 'map(.DomainName) | index("contoso.com") != null' >/dev/null || fail "accepted domains"
exoctl run Set-AcceptedDomain -Identity contoso.com -DomainType InternalRelay >/dev/null
exoctl run -o json Get-AcceptedDomain -Identity contoso.com | jq -e '.[0].DomainType == "InternalRelay"' >/dev/null || fail "domain type"

echo "== a transport rule"
exoctl run New-TransportRule -Name "External disclaimer" -FromScope InOrganization -SentToScope NotInOrganization \
  -ApplyHtmlDisclaimerText "<p>Contoso confidential</p>" -ApplyHtmlDisclaimerLocation Append >/dev/null
exoctl run -o json Get-TransportRule -Identity "External disclaimer" |
  jq -e '.[0].State == "Enabled" and .[0].SentToScope == "NotInOrganization"' >/dev/null || fail "transport rule"

echo "== read it all back"
exoctl run Get-MailboxPermission -Identity "$box"
exoctl run Get-DistributionGroupMember -Identity "Night Shift"
exoctl run -o list Get-Mailbox -Identity adele.vance@contoso.com | grep -E '^(ProhibitSend|IssueWarning)'
exoctl run -o json Get-TransportRule | jq -r '.[] | "\(.Name): \(.State), \(.SentToScope)"'
echo "common day: ok"
