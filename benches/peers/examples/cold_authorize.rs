//! amanat's `authorize` on cold customers, alone, for a profiler that counts rather than
//! times (see BENCHMARKS.md, "Profiling"):
//!
//! ```text
//! cargo build --release -p amanat-peers --example cold_authorize
//! valgrind --tool=callgrind --cache-sim=yes --collect-atstart=no \
//!     --toggle-collect='*decide_all*' target/release/examples/cold_authorize
//! ```
//!
//! Loads `AMANAT_PROFILE_SUBJECTS` customers (default 200 000: far more than any cache
//! holds), then answers one query per customer in the bench's order, and prints how many
//! were allowed so that the work can't be optimized away.

use amanat_peers::{Amanat, Dataset};

fn main() {
    let subjects = std::env::var("AMANAT_PROFILE_SUBJECTS").map_or(200_000, |n| {
        n.trim()
            .parse()
            .expect("AMANAT_PROFILE_SUBJECTS: a number of subjects")
    });
    let data = Dataset::new(subjects);
    let amanat = Amanat::load(&data);
    let allowed = amanat
        .decide_all(&data, subjects)
        .into_iter()
        .filter(|allowed| *allowed)
        .count();
    println!("{allowed} of {subjects} queries allowed");
}
