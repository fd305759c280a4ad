//! Consent-aware handling of personal data: selfies, passports, card and phone numbers
//! that open only to a consent token.
//!
//! ```
//! use amanat::{category::Biometric, ConsentForm, ConsentLedger, DocumentHash, Error, Grant,
//!              PersonalData, PolicyVersion, Purpose, SubjectId};
//!
//! let ledger = ConsentLedger::new(PolicyVersion::new("2025-07-01")?);
//! let customer = SubjectId::new("cust-000123")?;
//!
//! // With no policy, a biometric category asks written consent, as Tajik law Art. 17.1
//! // does; under a policy, its pack decides (ZRU-547 Art. 26 asks any provable consent).
//! let consent = ledger.grant(
//!     Grant::new(customer.clone(), ConsentForm::Written {
//!         document_sha256: DocumentHash::of(b"scanned, signed consent form"),
//!     })
//!     .purpose(Purpose::IDENTITY_VERIFICATION)
//!     .category::<Biometric>(),
//! )?;
//!
//! let token = ledger.authorize::<Biometric>(&customer, &Purpose::IDENTITY_VERIFICATION)?;
//! let selfie = PersonalData::collect(&customer, vec![0xFF_u8, 0xD8, 0xFF], &token)?;
//! let size = selfie.with(&token, |jpeg| jpeg.len())?;
//! assert_eq!(size, 3);
//!
//! // Marketing was never agreed to: refused, with the rule, never the value.
//! let refused = ledger.authorize::<Biometric>(&customer, &Purpose::MARKETING_ANALYTICS);
//! assert!(matches!(refused, Err(Error::NoConsent { .. })));
//!
//! // Withdrawal reaches the token already issued, at once.
//! ledger.withdraw(&consent)?;
//! assert!(matches!(selfie.read(&token), Err(Error::ConsentWithdrawn { .. })));
//! # Ok::<(), amanat::Error>(())
//! ```
//!
//! # Goals
//!
//! amanat makes the privacy policy and the personal-data law (Tajik law No. 1537 of 2018,
//! Uzbekistan's ZRU-547 and the privacy policies written under them) part of the types of
//! the program that processes the data.
//!
//! In these docs an article cited with no law named is the Tajik law's (Law No. 1537), as
//! in the project's summary of the law; the Uzbek law's are marked ZRU-547 (or Uzbek law).
//! What the library itself shows — an error, the record of processing, an access report,
//! an audit entry's reason — cites the article of the policy's pack in force, and names
//! its law: every citation a pack can produce is listed, with the words of the original
//! text it rests on, in [`JurisdictionPack`](policy::JurisdictionPack)'s docs.
//!
//! - **At compile time**: personal data can't be cloned, printed with `{}`, serialized in
//!   plain form, read with a token of another category, used after it was destroyed, or
//!   kept open past its token. Tokens can't be built, cloned or serialized outside the
//!   ledger. A consent can't be recorded without a purpose and a category.
//! - **At run time**: every read checks that the token is for this subject, unexpired, and
//!   that its consent has not been withdrawn or expired — a withdrawal reaches tokens
//!   already issued, at once — and that the record is not blocked. Every refusal is a
//!   typed [`Error`] naming subject, purpose and category, never the value.
//!   Biometric data needs written consent.
//! - **What it can't do**: once a closure given to [`PersonalData::with`] or the
//!   [`Exposed`] from [`PersonalData::read`] hands the value to your code, what your code
//!   does with it — copying it into a log, sending it elsewhere — is beyond the library's
//!   reach. Grep for `.read(` and `.with(`: they are the only doors.
//!
//! # What zeroizing does and doesn't reach
//!
//! Values live in [`secrecy`]'s boxed storage and are overwritten through [`zeroize`] when a
//! record is dropped, rectified or destroyed, and when a collection is refused. Copies made
//! before the value reached the library (the `String` your parser built and dropped, a
//! stack copy the compiler made while moving it) are out of its reach, as they are for
//! `zeroize` itself. Memory is not locked: it can be swapped to disk.
//!
//! # Where things are
//!
//! The everyday names are at the root. Categories live in [`category`]; the consent ledger,
//! its tokens and history in [`consent`]; the vocabulary of the law in [`vocab`]; records
//! and receipts in [`data`]; time in [`clock`]; the privacy policy as a file, the
//! jurisdiction packs and the working-day calendar in [`policy`]; deadlines, holds and
//! destruction in [`retention`]; validated phone, card, passport, PINFL and face-image values
//! in [`values`]; masks, keyed pseudonyms and the statistics sink in [`depersonalize`];
//! transfer permits and notices in [`disclosure`]; the hash-chained audit log in [`audit`];
//! consent receipts from elsewhere in [`receipts`]; subjects' requests and their due dates
//! in [`rights`]; the notices owed when a record is corrected, blocked or destroyed in
//! [`notices`]; key-encryption keys and their providers in [`key`]; vaults, journals and
//! the [`Operator`](store::Operator) that keeps everything on disk in [`store`].
//!
//! # Architecture
//!
//! The modules are built in layers, and a module uses only the layers below it: no import
//! cycle, and persistence is not woven into the domain (the `layers` behaviour tests read
//! the sources and hold every import to this plan).
//!
//! ```text
//!  store            vaults, key stores, journals on disk; the Operator facade
//!    ↑
//!  receipts         consent receipts from elsewhere
//!  rights  disclosure  notices   subjects' requests; transfers and their notices;
//!                   notices of changes
//!  retention        deadlines, holds, sweeps, destruction
//!  data             PersonalData and what a read of it checks
//!  consent          the ledger, tokens, history, proofs
//!    ↑  describe all they do as one audit::Event, kept through audit::change
//!  policy  payload  the privacy policy, jurisdiction packs, calendars; how a log entry
//!                   holds an audit entry, in clear or sealed under its subject's key
//!  audit  depersonalize   the audit trail, a view of the events; masks and pseudonyms
//!  event  category  log   the one event vocabulary and the journal of its changes;
//!                   categories as types; the authenticated, anchored log of entries
//!  error            every error the crate returns
//!  key              where key-encryption keys come from
//!  vocab  values  clock  files   ids and the words of the law; validated values; time
//! ```
//!
//! The ids every layer names — subjects, purposes, categories, consents, records, holds —
//! and the plain records the registers keep (transfer notices, subject requests, holds,
//! triggers) are vocabulary, at the bottom; the modules that own their behaviour re-export
//! them, so `amanat::consent::ConsentId` and `amanat::retention::LegalHold` are where they
//! were. The crate-wide [`Error`] sits just above them, beside the errors it wraps.
//!
//! Everything the domain does is spelled once, as an [`audit::Event`]: the audit trail shows
//! every event, and the journal keeps those that are changes for the replay. An
//! [`Operator`](store::Operator) writes each change once, as one entry of its log that is
//! both the change and its audit entry.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Without the `sqlite` feature, the pages still name the embedded store and its parts (the
// operator, the vault, the key store) that the feature brings: the links to them resolve
// in the default build, whose documentation is checked with every link.
#![cfg_attr(not(feature = "sqlite"), allow(rustdoc::broken_intra_doc_links))]
// A library that holds people's identities answers bad input with a typed error, never by
// aborting its caller's request: each `unwrap`, `expect` or `panic` kept is allowed where it
// stands, with the reason it cannot fire.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod audit;
pub mod category;
pub mod clock;
pub mod consent;
pub mod data;
pub mod depersonalize;
pub mod disclosure;
mod error;
mod event;
mod files;
pub mod key;
pub mod log;
pub mod notices;
mod payload;
pub mod policy;
pub mod receipts;
pub mod retention;
pub mod rights;
pub mod store;
pub mod values;
pub mod vocab;

pub use category::Category;
pub use clock::{Clock, ManualClock, SystemClock};
pub use consent::{ConsentId, ConsentLedger, ConsentToken, Grant};
pub use data::{DestructionReason, DestructionReceipt, Exposed, PersonalData};
pub use depersonalize::Depersonalized;
pub use error::Error;
pub use policy::Policy;
pub use retention::RetentionSchedule;
pub use vocab::{
    Actor, ConsentForm, DocumentHash, ElectronicMethod, Evidence, GivenBy, LegalBasis, Operation,
    PolicyVersion, Purpose, SubjectId,
};

/// Where the entry numbered `number` (counted from 1, as notices and requests are) sits in
/// the list that numbered it.
pub(crate) fn slot(number: u64) -> Option<usize> {
    usize::try_from(number.checked_sub(1)?).ok()
}
