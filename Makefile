# The verbs. `make dev` runs the app, `make test` runs every test; both install what is missing
# first (idempotently, at pinned versions), so a fresh machine with only Rust and Node works.

SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

CARGO_LEPTOS_VERSION := 0.3.10
CARGO_DENY_VERSION := 0.20.2
# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
# The same flag cargo-leptos uses for debug builds, so tests and `cargo leptos watch` share
# one set of compiled dependencies instead of rebuilding each other's.
TEST_RUSTFLAGS := --cfg erase_components
# The site name cargo-leptos sets for every build. Leptos reads it at compile time (a server
# built without it links `sigra_bg.wasm`, a name cargo-leptos never writes), so the test build
# renders the pages `cargo leptos watch` serves and shares its compiled crates.
export LEPTOS_OUTPUT_NAME := sigra
# The full build's tests, with the page areas split as in the release build: the browser suite
# runs this build's server binary (target/debug/server) against the release bundle.
TEST_BUILD := -p sigra-errors -p sigra -p app -p server --features sigra/testing,app/ssr,server/testing,app/split-routes
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup setup-dev dev test test-rust test-smallest e2e e2e-build e2e-smallest build-site bench lint deny rename \
        rust-target wasm-bindgen cargo-leptos cargo-deny chromium redis test-tools

help:
	@echo "make dev         run the app with live reload (cargo leptos watch) on http://localhost:3000"
	@echo "make test        every test: unit, HTTP integration (SQLite, and PostgreSQL if TEST_POSTGRES_URL is set), browser"
	@echo "make test-rust   unit and HTTP integration tests only (the full build, then the smallest)"
	@echo "make test-smallest  the build without passkeys, OAuth and JWT (--no-default-features)"
	@echo "make e2e         Playwright in system Chromium against the release bundle and the test build's server"
	@echo "make e2e-smallest  the capability spec against a release build without the default features"
	@echo "make build-site  release build: target/release/server and target/site"
	@echo "make bench       benchmarks (numbers go in the README)"
	@echo "make lint        rustfmt, clippy, and the supply-chain gate (make deny)"
	@echo "make deny        cargo-deny: advisories (offline snapshot), licences, duplicates, sources"
	@echo "make setup       install the build and test tools that are missing"
	@echo "make rename NAME=\"Acme Cloud\"  make the template your project (name, cookies, token prefix, sender)"

setup: rust-target node_modules/.package-lock.json wasm-bindgen chromium redis test-tools

setup-dev: rust-target node_modules/.package-lock.json wasm-bindgen cargo-leptos

dev: setup-dev
	cargo leptos watch

test: setup test-rust e2e

test-rust: test-tools node_modules/.package-lock.json
	@[ -n "$$TEST_POSTGRES_URL" ] || echo "NOTE: TEST_POSTGRES_URL is unset, so the HTTP tests run on SQLite only (CI runs them on PostgreSQL too)."
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo test $(TEST_BUILD)
	$(MAKE) --no-print-directory test-smallest
	scripts/test-rename.sh
	@[ -n "$$TEST_POSTGRES_URL" ] || echo "NOTE: the PostgreSQL pass was skipped (TEST_POSTGRES_URL is unset)."

# The release bundle and the test build's server: the browser sees what ships, and the server is
# the release one's source, capabilities and flags without its optimised build (8 minutes here).
# The development bundle (`cargo leptos watch`'s) too, which a fourth server runs.
e2e-build: setup
	scripts/build-site.sh --bundle-only
	scripts/build-dev-bundle.sh
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo test $(TEST_BUILD) --no-run

# On PostgreSQL the suite leaves out the specs whose subject is the browser side alone (what the
# bundles load, axe, keyboard and focus): they would render the same pages from the same code.
BROWSER_ONLY_SPECS := bundle dev-bundle accessibility axe
DATABASE_SPECS := $(filter-out $(BROWSER_ONLY_SPECS:%=tests/%.spec.ts),$(patsubst end2end/%,%,$(wildcard end2end/tests/*.spec.ts)))

e2e: e2e-build
	scripts/e2e.sh
	@if [ -n "$$TEST_POSTGRES_URL" ]; then E2E_DATABASE=postgres scripts/e2e.sh $(DATABASE_SPECS); \
	else echo "NOTE: the browser suite ran on SQLite only (TEST_POSTGRES_URL is unset)."; fi

# The smallest feature set: the core's and the app's unit tests, and the server's own tests of
# it (server/tests/smallest.rs), built without the default features.
SMALLEST := -p sigra -p app -p server --no-default-features --features sigra/testing,app/ssr,server/testing
test-smallest: test-tools rust-target
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo test $(SMALLEST) --lib --test smallest
	cargo check -p frontend --no-default-features --target wasm32-unknown-unknown

# The browser check of the smallest build: a second release build in its own target directory,
# so it is not part of `make test` (CI builds and tests that set without a browser).
e2e-smallest: e2e-build
	CARGO_TARGET_DIR=target/smallest SITE_FEATURES=--no-default-features scripts/build-site.sh
	E2E_SMALLEST_BINARY=target/smallest/release/server E2E_SMALLEST_SITE=target/smallest/site \
		scripts/e2e.sh tests/capabilities.spec.ts

# Makes the template a new project: make rename NAME="Acme Cloud" [MAIL_FROM=no-reply@acme.example]
rename:
	@[ -n "$(NAME)" ] || { echo 'usage: make rename NAME="Acme Cloud" [MAIL_FROM=no-reply@acme.example]' >&2; exit 2; }
	scripts/rename.sh "$(NAME)" $(if $(MAIL_FROM),--mail-from "$(MAIL_FROM)")

build-site: rust-target node_modules/.package-lock.json wasm-bindgen
	scripts/build-site.sh

bench: setup build-site
	scripts/bench.sh

lint: deny
	cargo fmt --all -- --check
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo clippy $(TEST_BUILD) --all-targets -- -D warnings
	RUSTFLAGS="$(TEST_RUSTFLAGS)" cargo clippy $(SMALLEST) --lib --bins --test smallest -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p frontend --no-default-features --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p frontend --features app/split-routes --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p wasm-split -- -D warnings

deny: cargo-deny
	scripts/deny.sh

rust-target:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

wasm-bindgen:
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] || \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force

# Like cargo-deny, built without LTO and with many codegen units: it only orchestrates the build.
cargo-leptos:
	@[ "$$(cargo leptos --version 2>/dev/null)" = "cargo-leptos $(CARGO_LEPTOS_VERSION)" ] || \
		CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
		cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads --force

# The Redis server the rate-limit tests count in (its own backend, SIGRA_RATE_LIMIT_BACKEND=redis).
redis:
	@command -v redis-server >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q redis-server; }

# Built without LTO and with many codegen units: it is a tool, and this halves its build.
cargo-deny:
	@[ "$$(cargo deny --version 2>/dev/null)" = "cargo-deny $(CARGO_DENY_VERSION)" ] || \
		CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
		cargo install cargo-deny --version $(CARGO_DENY_VERSION) --locked --force

# The browser tests' Chromium: Debian's headless shell, without the full browser's UI.
chromium:
	@command -v chromium-headless-shell >/dev/null || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium-headless-shell; }

# Python tools the Rust tests drive, from PyPI: a real SMTP server for the mail tests to deliver
# to (aiosmtpd), a MaxMind database writer for the GeoIP test (mmdb-writer), an independent
# TOTP implementation whose codes the MFA tests enter (pyotp), an independent JWT library that
# verifies the app's tokens and mints tokens the app must accept (PyJWT), and an OpenAPI fuzzer
# run against the JSON API (schemathesis).
test-tools:
	@[ -x .tools/venv/bin/python ] && .tools/venv/bin/python -c 'import aiosmtpd, mmdb_writer, pyotp, jwt, schemathesis' 2>/dev/null || \
		{ python3 -m venv .tools/venv && .tools/venv/bin/pip install -q aiosmtpd==1.4.6 mmdb-writer==0.2.7 pyotp==2.9.0 'PyJWT[crypto]==2.15.1' schemathesis==4.32.5; }
