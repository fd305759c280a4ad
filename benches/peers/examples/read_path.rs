//! amanat's read path alone, for a profiler that counts rather than times (see
//! BENCHMARKS.md, "Profiling"): `with` on one collected selfie, `AMANAT_PROFILE_READS`
//! times (default 1 000 000), through a token of a ledger without a log, so that what is
//! counted is the checks a read makes: the token's expiry and withdrawal, its ledger, its
//! subject, the block flag and the value's lock.
//!
//! ```text
//! cargo build --release -p amanat-peers --example read_path
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*read_all*' \
//!     target/release/examples/read_path
//! ```

use amanat::category::Biometric;
use amanat::{
    ConsentForm, ConsentLedger, ConsentToken, DocumentHash, Grant, ManualClock, PersonalData,
    PolicyVersion, Purpose, SubjectId,
};

/// Reads `selfie` `times` times; the sum of the lengths keeps the work from being removed.
#[inline(never)]
fn read_all(
    selfie: &PersonalData<Vec<u8>, Biometric>,
    token: &ConsentToken<Biometric>,
    times: u64,
) -> u64 {
    let mut total = 0_u64;
    for _ in 0..times {
        total += selfie
            .with(token, |bytes| bytes.len() as u64)
            .unwrap_or_default();
    }
    total
}

fn main() {
    let times = std::env::var("AMANAT_PROFILE_READS").map_or(1_000_000, |n| {
        n.trim()
            .parse()
            .expect("AMANAT_PROFILE_READS: a number of reads")
    });
    // A manual clock: valgrind can't follow the vDSO the system clock reads.
    let clock = ManualClock::new(chrono::DateTime::UNIX_EPOCH);
    let ledger = ConsentLedger::builder(PolicyVersion::new("v1").expect("a version"))
        .clock(clock)
        .build();
    let subject = SubjectId::new("cust-1").expect("an id");
    ledger
        .grant(
            Grant::new(
                subject.clone(),
                ConsentForm::Written {
                    document_sha256: DocumentHash::of(b"signed form"),
                },
            )
            .purpose(Purpose::IDENTITY_VERIFICATION)
            .category::<Biometric>(),
        )
        .expect("a consent");
    let token = ledger
        .authorize::<Biometric>(&subject, &Purpose::IDENTITY_VERIFICATION)
        .expect("a token");
    let selfie = PersonalData::collect(&subject, vec![7_u8; 64 * 1024], &token).expect("a selfie");
    println!("{} bytes read", read_all(&selfie, &token, times));
}
