#!/usr/bin/env bash
# The supply-chain gate: cargo-deny checks advisories (against the RustSec snapshot kept beside
# the project, since only package registries are reachable), licences, duplicate versions and
# sources. cargo-deny reads its advisory database from a git repository at a path derived from
# the database URL; the snapshot is a plain copy, so it is committed there once, dated as the
# snapshot is, so that `maximum-db-staleness` in deny.toml judges its real age.
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo-deny reads the dependency graph offline; a fresh machine has not downloaded it yet.
cargo fetch --locked --quiet

snapshot=${SIGRA_ADVISORY_DB:-../shared/advisory-db}
db=target/advisory-dbs/advisory-db-3157b0e258782691

if [ ! -d "$snapshot" ]; then
  echo "NOTE: no RustSec snapshot at $snapshot: checking licences, duplicates and sources only." >&2
  exec cargo deny --offline check bans licenses sources
fi

stamp=$(cat "$snapshot/SNAPSHOT" 2>/dev/null || echo "unknown")
if [ "$(cat "$db/.snapshot" 2>/dev/null || true)" != "$stamp" ]; then
  rm -rf "$db"
  mkdir -p "$db"
  cp -R "$snapshot"/. "$db"/
  date=$(awk '{ print $2 }' <<<"$stamp")
  git -C "$db" init -q
  git -C "$db" add -A
  GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
    git -C "$db" -c user.name=sigra -c user.email=sigra@localhost commit -q -m "RustSec snapshot $stamp"
  echo "$stamp" > "$db/.snapshot"
fi
echo "==> cargo deny (advisories as of: $stamp)"
cargo deny --offline check
