#!/usr/bin/env bash
# Tests scripts/rename.sh on a copy of the tracked files: the names it must change are all
# changed, the manifests still parse, bad names are refused, and a second run is refused.
set -euo pipefail
cd "$(dirname "$0")/.."

copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy"
# Unstaged edits are part of what is tested (the copy takes the working tree's files).
git -C "$copy" init -q && git -C "$copy" add -A

fail() { echo "rename test: $*" >&2; exit 1; }
expect_in() { grep -q -F -- "$2" "$copy/$1" || fail "$1 lacks: $2"; }

for bad in "" "1password" "acme/cloud" 'acme"cloud' "$(printf 'x%.0s' {1..41})"; do
  if (cd "$copy" && scripts/rename.sh "$bad" >/dev/null 2>&1); then fail "accepted the name '$bad'"; fi
done
for bad in "nobody" "Acme <no-reply@acme.example>" "a@b" "a@b.c|d"; do
  if (cd "$copy" && scripts/rename.sh "Acme" --mail-from "$bad" >/dev/null 2>&1); then fail "accepted the sender '$bad'"; fi
done

(cd "$copy" && scripts/rename.sh "Acme Cloud" --mail-from no-reply@acme.example >/dev/null)

leftover=$(cd "$copy" && git grep -l -e '__Host-sigra_' -e 'Your Sigra account' -e 'sigra-rust-tooling' -e 'sigra-data-' -e 'data/sigra\.db' -- ':!scripts/rename.sh' ':!scripts/test-rename.sh' || true)
[ -z "$leftover" ] || fail "old names left in: $leftover"
expect_in sigra/src/http/cookies.rs '"__Host-acme_cloud_session"'
expect_in app/src/flash.rs '"__Host-acme_cloud_flash"'
expect_in sigra/src/config/mod.rs 'r.text("app_name", "Acme Cloud")'
expect_in sigra/src/config/api.rs 'r.text("api_tokens.prefix", "acme_cloud")'
expect_in sigra/src/config/database.rs 'sqlite://data/acme_cloud.db'
expect_in sigra/src/config/mail.rs 'format!("{app_name} <no-reply@acme.example>")'
expect_in server/tests/http/api_tokens.rs 'token.starts_with("acme_cloud_")'
expect_in end2end/tests/api-tokens.spec.ts '/^acme_cloud_'
expect_in package.json '"name": "acme-cloud-tooling"'
expect_in package-lock.json '"name": "acme-cloud-tooling"'
head -1 "$copy/README.md" | grep -q -x '# Acme Cloud (built on Sigra for Rust)' || fail "README heading"
# The core keeps its name and code paths: only literals changed.
(cd "$copy" && git diff --numstat) | awk '{ print $3 }' | grep -q -x 'Cargo.toml' && fail "a manifest changed"
(cd "$copy" && cargo metadata --no-deps --offline --format-version 1 >/dev/null) || fail "the workspace no longer parses"
node -e 'JSON.parse(require("fs").readFileSync(process.argv[1]))' "$copy/package.json" || fail "package.json"

if (cd "$copy" && scripts/rename.sh "Other" >/dev/null 2>&1); then fail "renamed twice"; fi
echo "rename test: ok"
