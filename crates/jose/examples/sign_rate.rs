//! How many signatures per second this machine makes with the library the token endpoint signs
//! with: one thread per core, each signing a typical access token's signing input (about 330
//! bytes) for a few seconds. Used by `bench/limit.sh` for the signing term of the machine's limit.
//!
//! `cargo run --release -p castellan-jose --example sign_rate -- [ES256|RS256|PS256] [seconds] [threads]`
//! prints one line: `<alg> <threads> <signatures per second, all threads>`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use castellan_domain::SigningAlg;
use castellan_jose::{LoadedKey, keys};

fn main() {
    let mut args = std::env::args().skip(1);
    let alg = SigningAlg::parse(&args.next().unwrap_or_else(|| "ES256".into())).expect("ES256, RS256 or PS256");
    let seconds: f64 = args.next().map_or(3.0, |s| s.parse().expect("seconds"));
    let threads: usize = args.next().map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |s| s.parse().expect("threads"),
    );
    let g = keys::generate(alg).unwrap();
    let message = vec![b'e'; 330];
    let deadline = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let counts: Vec<u64> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let key = LoadedKey::from_pkcs8(alg, &g.pkcs8).unwrap();
                let message = &message;
                s.spawn(move || {
                    let mut n = 0u64;
                    let t = Instant::now();
                    while t.elapsed() < deadline {
                        for _ in 0..64 {
                            std::hint::black_box(key.sign(message).unwrap());
                        }
                        n += 64;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let total: u64 = counts.iter().sum();
    println!(
        "{} {threads} {:.0}",
        alg.as_str(),
        total as f64 / started.elapsed().as_secs_f64()
    );
}
