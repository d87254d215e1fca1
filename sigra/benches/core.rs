//! Micro-benchmarks of the core's per-request and per-log-in work.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sigra::clock::Timestamp;
use sigra::config::Config;
use sigra::crypto::{IssuedToken, PresentedToken};
use sigra::password::{Password, PasswordHasher, PasswordPolicy};
use sigra::sessions::{SessionKind, SessionPolicy, SessionTimes};
use sigra::users::EmailAddress;

fn config() -> Config {
    let env: BTreeMap<String, String> = [(
        "SIGRA_SECRET_KEY".to_owned(),
        sigra::crypto::SecretKey::generate_text(),
    )]
    .into();
    Config::from_sources(None, &env, None).expect("default config")
}

fn per_request(c: &mut Criterion) {
    let config = config();
    let token = IssuedToken::generate();
    let cookie = token.expose().to_owned();
    c.bench_function("session cookie: parse and hash", |b| {
        b.iter(|| PresentedToken::parse(&cookie).map(|t| t.hash()))
    });
    let policy = SessionPolicy::new(config.sessions);
    let start = Timestamp::from_millis(1_700_000_000_000);
    let times = SessionTimes {
        kind: SessionKind::Standard,
        last_seen_at: start,
        expires_at: policy.expires_at(SessionKind::Standard, start),
    };
    c.bench_function("session policy: evaluate", |b| {
        b.iter(|| policy.evaluate(times, start.plus(Duration::from_secs(90))))
    });
    c.bench_function("token: generate and hash", |b| {
        b.iter(|| IssuedToken::generate().hash())
    });
}

fn per_log_in(c: &mut Criterion) {
    let config = config();
    c.bench_function("email: parse and normalise", |b| {
        b.iter(|| EmailAddress::parse(" Ada.Lovelace@Bücher.Example "))
    });
    let policy = PasswordPolicy::new(&config.passwords, &config.app_name);
    let email = EmailAddress::parse("ada@example.com").expect("valid");
    c.bench_function("password policy: check", |b| {
        b.iter(|| {
            policy
                .check(
                    Password::new("correct horse battery staple".to_owned()),
                    &email,
                )
                .is_ok()
        })
    });
    // The estimate reads at most 32 characters: the most work one meter reading can ask for.
    let longest = "Tangerine lighthouse, quiet Orbit; 7 velvet kettles hum 42 bright!".to_owned();
    c.bench_function("password policy: check, the longest estimate", |b| {
        b.iter(|| policy.check(Password::new(longest.clone()), &email).is_ok())
    });
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let hasher = PasswordHasher::new(&config.passwords).expect("hasher");
    let new = policy
        .check(
            Password::new("correct horse battery staple".to_owned()),
            &email,
        )
        .expect("valid");
    let hash = runtime.block_on(hasher.hash(&new)).expect("hash");
    let mut group = c.benchmark_group("argon2id m=19456 t=2 p=1");
    group.sample_size(20);
    group.bench_function("verify", |b| {
        b.iter(|| {
            let password = Password::new("correct horse battery staple".to_owned());
            runtime.block_on(hasher.verify(&password, &hash))
        })
    });
    group.finish();
}

criterion_group!(benches, per_request, per_log_in);
criterion_main!(benches);
