#!/usr/bin/env bash
# Makes this template a new project:
#   scripts/rename.sh "Acme Cloud" [--mail-from no-reply@acme.example]
# (or `make rename NAME="Acme Cloud"`). It sets the name pages, titles, mail and authenticator
# apps show, the cookie names (`__Host-acme_cloud_session`, …), the API token prefix that secret
# scanners look for (`acme_cloud_…`), the development database file, the tooling package name
# and, with --mail-from, the default sender's address (its name is the site's). The crates keep
# their names: `sigra` is the core library this project builds on, and `app`, `server` and
# `frontend` name their roles. Run it once, on a clean checkout, then review `git diff`.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 \"Display Name\" [--mail-from address@example.com]" >&2; exit 2; }
[ $# -ge 1 ] || usage
name=$1; shift
mail_from=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mail-from) [ $# -ge 2 ] || usage; mail_from=$2; shift 2 ;;
    *) usage ;;
  esac
done

# A display name of letters, digits, spaces, dots and dashes, starting with a letter: it goes
# into Rust and TypeScript string literals and sed expressions as it is.
if ! [[ "$name" =~ ^[A-Za-z][A-Za-z0-9\ .-]{0,39}$ ]]; then
  echo "the name must start with a letter and hold at most 40 letters, digits, spaces, dots or dashes: $name" >&2
  exit 2
fi
# The machine name: lowercase, words joined by _, at most 24 characters (cookie names and the
# API token prefix, which allows a-z, 0-9 and _).
slug=$(printf '%s' "$name" | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9]+/_/g; s/^_+//; s/_+$//' | cut -c1-24 | sed -E 's/_+$//')
if [ -n "$mail_from" ] && ! [[ "$mail_from" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$ ]]; then
  echo "--mail-from must be an address like no-reply@acme.example: $mail_from" >&2
  exit 2
fi
if ! grep -q 'r.text("app_name", "Sigra")' sigra/src/config/mod.rs; then
  echo "this checkout is already renamed (the default app name is no longer Sigra)" >&2
  exit 1
fi

# Every tracked text file: the sources, the tests (Rust and browser), the scripts, the docs.
mapfile -t files < <(git ls-files | grep -v -e '^Cargo.lock$' -e '\.png$' -e '\.ico$' -e '^scripts/rename.sh$' -e '^scripts/test-rename.sh$')
replace() { # replace LITERAL-PATTERN REPLACEMENT (sed, with | as the separator)
  local hits
  mapfile -t hits < <(grep -l -F -- "$1" "${files[@]}" || true)
  [ ${#hits[@]} -eq 0 ] || sed -i "s|$(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g')|$2|g" "${hits[@]}"
}

replace '__Host-sigra_' "__Host-${slug}_"
replace 'r.text("app_name", "Sigra")' "r.text(\"app_name\", \"$name\")"
replace 'r.text("api_tokens.prefix", "sigra")' "r.text(\"api_tokens.prefix\", \"$slug\")"
replace 'sqlite://data/sigra.db' "sqlite://data/$slug.db"
replace 'data/sigra.db' "data/$slug.db"
# The export's file name: the site's name in lowercase letters and digits.
compact=$(printf '%s' "$name" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9')
replace 'sigra-data-' "$compact-data-"
replace 'Your Sigra account' "Your $name account"
replace 'A test message from Sigra' "A test message from $name"
replace 'title = "Sigra API"' "title = \"$name API\""
replace 'about = "Sigra for Rust: the authentication server"' "about = \"$name: the authentication server\""
# The tests that read a token's prefix (the core's own tests pass theirs explicitly).
sed -i "s/sigra_/${slug}_/g" server/tests/http/api_tokens.rs
sed -i "s|/^sigra_|/^${slug}_|" end2end/tests/api-tokens.spec.ts
replace '"name": "sigra-rust-tooling"' "\"name\": \"${slug//_/-}-tooling\""
if [ -n "$mail_from" ]; then
  replace 'format!("{app_name} <no-reply@localhost>")' "format!(\"{app_name} <$mail_from>\")"
fi
sed -i "1s|^# Sigra for Rust$|# $name (built on Sigra for Rust)|" README.md

echo "Renamed to \"$name\": cookies __Host-${slug}_*, API tokens ${slug}_…, development database data/$slug.db."
echo "Review the change with git diff, then commit it."
