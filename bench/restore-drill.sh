#!/usr/bin/env bash
# Restore drill at scale (docs/operations.md): a SQLite deployment with 2 tenants, 20 000
# finished conversations and 1 000 000 messages (Hebrew, Chinese and English text), then
# `livehelp backup`, `livehelp backup verify` and `livehelp restore` into a fresh data dir,
# each timed; prints the archive size. Needs the sqlite3 command-line shell (Debian
# package sqlite3) to bulk-load the rows, and a release build:
#   cargo build --release -p livehelp && bench/restore-drill.sh [WORK_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${LIVEHELP_BIN:-$root/target/release/livehelp}
work=${1:-$(mktemp -d)}
conversations_per_tenant=${CONVERSATIONS_PER_TENANT:-10000}
messages_per_conversation=${MESSAGES_PER_CONVERSATION:-50}
rm -rf "$work/source" "$work/restored" "$work/backups"
mkdir -p "$work"

"$bin" tenant create --name "Drill One" --site one.example --data-dir "$work/source" >/dev/null
"$bin" tenant create --name "Drill Two" --site two.example --data-dir "$work/source" >/dev/null

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

start=$(seconds)
sqlite3 "$work/source/livehelp.sqlite3" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $conversations_per_tenant - 1)
INSERT INTO visitors (id, tenant_id, site_id, name, created_at)
SELECT randomblob(16), s.tenant_id, s.id, 'visitor ' || i, 1764633600000000 + i * 1000000
FROM n, sites s;
INSERT INTO conversations (id, tenant_id, site_id, visitor_id, state, last_seq, created_at, ended_at, end_reason)
SELECT randomblob(16), tenant_id, site_id, id, 'ended', $messages_per_conversation, created_at,
       created_at + 600000000, 'visitor_ended'
FROM visitors;
WITH RECURSIVE m(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM m WHERE k < $messages_per_conversation)
INSERT INTO messages (id, tenant_id, conversation_id, seq, kind, author_kind, author_id, text, client_msg_id, created_at)
SELECT randomblob(16), c.tenant_id, c.id, k, 'visitor', 'visitor', c.visitor_id,
       'שלום, 你好 — message ' || k || ' about order ' || hex(randomblob(4)) || ' that has not arrived yet, could you check?',
       randomblob(16), c.created_at + k * 1000000
FROM conversations c, m;
COMMIT;
SQL
loaded=$(seconds)
messages=$(sqlite3 "$work/source/livehelp.sqlite3" 'SELECT count(*) FROM messages')
echo "loaded $messages messages in $(elapsed "$start" "$loaded") s"
echo "database: $(du -h "$work/source/livehelp.sqlite3" | cut -f1)"

t0=$(seconds)
"$bin" backup --to "$work/backups" --data-dir "$work/source"
t1=$(seconds)
archive=$(ls "$work"/backups/*.tar.zst)
"$bin" backup verify "$archive"
t2=$(seconds)
"$bin" restore --from "$archive" --data-dir "$work/restored"
t3=$(seconds)
echo "backup:  $(elapsed "$t0" "$t1") s"
echo "archive: $(du -h "$archive" | cut -f1) ($(stat -c %s "$archive") bytes)"
echo "verify:  $(elapsed "$t1" "$t2") s"
echo "restore: $(elapsed "$t2" "$t3") s (verifies again first)"
restored=$(sqlite3 "$work/restored/livehelp.sqlite3" 'SELECT count(*) FROM messages')
echo "restored $restored messages"
test "$restored" = "$messages"
