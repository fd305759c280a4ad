//! Writes the seed corpus of every fuzz target from real inputs: the IMANUM policy, the
//! Kantara example of tests/data, and sealed records, journal rows, audit rows and a proof
//! of consent made by the library itself, plus a few values valid and invalid.
//!
//! Run from `fuzz/`: `cargo run --example make_seeds`. It writes `corpus/<target>/seed-*`,
//! the only corpus files committed (see .gitignore).

use std::fs;
use std::path::Path;

use amanat::category::{Biometric, Passport, Phone};
use amanat::data::RecordId;
use amanat::store::Operator;
use amanat::store::journal::{Journal, SqliteJournal};
use amanat::store::keys::MemoryKeyStore;
use amanat::store::seal::Sealed;
use amanat::{
    Clock, ConsentForm, DocumentHash, ElectronicMethod, Evidence, Grant, ManualClock, PersonalData,
    Policy, Purpose, SubjectId,
};
use chrono::{TimeDelta, TimeZone, Utc};

fn seed(target: &str, name: &str, bytes: impl AsRef<[u8]>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let imanum = fs::read_to_string(root.join("examples/policies/imanum.toml")).unwrap();
    let kantara = fs::read_to_string(root.join("tests/data/kantara-cr-v1.1-example.json")).unwrap();

    // Policies: the IMANUM file, a minimal one, and three that fail at a known place.
    seed("policy_toml", "imanum.toml", &imanum);
    let minimal = "version = \"shop-1\"\ndate = 2025-07-01\npack = \"tajikistan-2018\"\n\n\
        [operator]\nname = \"Shop LLC\"\naddress = \"Dushanbe\"\ncontact = \"privacy@shop.tj\"\n\
        registration = \"NCPD-0001\"\n\n[[category]]\nid = \"phone\"\n\n[[purpose]]\n\
        id = \"service_provision\"\ncategories = [\"phone\"]\nbasis = \"consent\"\n\n\
        [[retention]]\ncategory = \"phone\"\npurpose = \"service_provision\"\n\
        after = \"relationship_end\"\nyears = 1\n\n[calendar]\nweekend = [\"sunday\"]\n\
        holidays = [\"03-21\"]\ndays_off = [2025-09-09]\n";
    seed("policy_toml", "minimal.toml", minimal);
    seed(
        "policy_toml",
        "unknown-key.toml",
        "version = \"x\"\nvesion = 2\n",
    );
    seed(
        "policy_toml",
        "duplicate-recipient.toml",
        imanum.replacen("id = \"katm\"", "id = \"credolab\"", 1),
    );
    seed(
        "policy_toml",
        "undeclared-category.toml",
        minimal.replace(
            "categories = [\"phone\"]",
            "categories = [\"phone\", \"selfie\"]",
        ),
    );

    // An operator's store, used the way onboarding uses it: its journal and audit rows.
    let policy = Policy::from_toml_str(&imanum).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2025, 7, 1, 9, 0, 0).unwrap());
    let customer = SubjectId::new("cust-000123").unwrap();
    let proof;
    {
        let keys_root = tempfile::tempdir().unwrap();
        let keys = amanat::store::kek::KeyDir::new(keys_root.path().join("keys")).unwrap();
        let operator = Operator::builder(dir.path(), policy.clone(), keys)
            .clock(clock.clone())
            .open()
            .unwrap();
        let ledger = operator.ledger();
        let consent = ledger
            .grant(
                Grant::new(
                    customer.clone(),
                    ConsentForm::Electronic {
                        method: ElectronicMethod::OneTimePassword,
                    },
                )
                .purpose(Purpose::SERVICE_PROVISION)
                .category::<Phone>()
                .category::<Passport>()
                .evidence(Evidence::OneTimePassword {
                    challenge_id: "sms-gw-5521907".into(),
                    confirmed_at: clock.now(),
                }),
            )
            .unwrap();
        let form = b"I consent to the processing of my facial image";
        ledger
            .grant(
                Grant::new(
                    customer.clone(),
                    ConsentForm::Written {
                        document_sha256: DocumentHash::of(form),
                    },
                )
                .purpose(Purpose::IDENTITY_VERIFICATION)
                .category::<Biometric>(),
            )
            .unwrap();
        let token = ledger
            .authorize::<Phone>(&customer, &Purpose::SERVICE_PROVISION)
            .unwrap();
        let mut phone =
            PersonalData::collect(&customer, String::from("+998901234567"), &token).unwrap();
        operator.keep(&mut phone, &token).unwrap();
        drop(token);
        let _ = ledger.authorize::<Biometric>(&customer, &Purpose::MARKETING_ANALYTICS);
        clock.advance(TimeDelta::days(3));
        operator.withdraw(&consent).unwrap();
        operator.sweep(clock.now() + TimeDelta::days(400)).unwrap();
        proof = ledger.proof_of_consent(&consent).unwrap();
        operator.audit_log().flush().unwrap();
    }

    let journal = SqliteJournal::open(dir.path().join("journal.db")).unwrap();
    let mut rows = Vec::new();
    journal
        .replay(&mut |change| {
            rows.push(change.to_json().unwrap());
            Ok(())
        })
        .unwrap();
    for (n, row) in rows.iter().enumerate() {
        seed("store_rows", &format!("journal-{n:02}.json"), row);
    }
    seed(
        "store_rows",
        "journal-not-a-change.json",
        "{\"consent_renewed\":{}}",
    );

    let audit = fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    for (n, line) in audit.lines().enumerate() {
        seed("audit_log", &format!("entry-{n:02}.json"), line);
    }
    seed("audit_log", "log.jsonl", &audit);
    let torn = &audit[..audit.len() - 20];
    seed("audit_log", "log-torn.jsonl", torn);
    seed(
        "audit_log",
        "log-edited.jsonl",
        audit.replacen("cust-000123", "cust-000124", 1),
    );

    // Sealed records: empty, short and longer values, and a cut and a bad version.
    let keys = MemoryKeyStore::new();
    for (n, value) in [&b""[..], b"+998901234567", &[0x5A; 300][..]]
        .iter()
        .enumerate()
    {
        let sealed = Sealed::seal(&keys, RecordId::random(), &customer, value).unwrap();
        seed("store_rows", &format!("sealed-{n}.bin"), sealed.to_bytes());
        if n == 1 {
            let bytes = sealed.to_bytes();
            seed("store_rows", "sealed-cut.bin", &bytes[..40]);
            let mut other = bytes.clone();
            other[0] = 2;
            seed("store_rows", "sealed-version-2.bin", other);
        }
    }

    // Receipts: the published Kantara example, ours, and a proof of consent.
    seed("receipts", "kantara-example.json", &kantara);
    seed(
        "receipts",
        "kantara-no-services.json",
        kantara.replacen("\"services\"", "\"servicez\"", 1),
    );
    seed(
        "receipts",
        "proof.json",
        serde_json::to_string_pretty(&proof).unwrap(),
    );

    // Values, valid and not.
    for (name, text) in [
        ("phone-uz", "+998 90 123-45-67"),
        ("phone-tj", "+992 93 123 4567"),
        ("phone-short", "+99890123456"),
        ("card", "8600 1234 5678 9012"),
        ("card-luhn", "8600 1234 5678 9013"),
        ("cvc", "123"),
        ("passport-uz", "AB1234567"),
        ("passport-tj", "4000123AB"),
        ("pinfl", "30101199012345"),
        ("country", "SG"),
        ("purpose", "credit_scoring"),
        ("version", "imanum-privacy-policy-2"),
        ("unicode", "+998 ٩٠ 123 45 67"),
    ] {
        seed("values", name, text);
    }
    seed("values", "jpeg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]);
    seed(
        "values",
        "png",
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
    );
}
