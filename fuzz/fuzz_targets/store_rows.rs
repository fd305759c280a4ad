//! What a store reads back from its files: sealed records (`Sealed::from_bytes`) and
//! journal rows (`Change::from_json`). Any bytes are refused with a typed error or read;
//! what is read prints back to what was read.
#![no_main]

use amanat::store::journal::Change;
use amanat::store::keys::MemoryKeyStore;
use amanat::store::seal::{SealError, Sealed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sealed) = Sealed::from_bytes(data) {
        // The layout has no slack: the bytes written are the bytes read.
        assert_eq!(sealed.to_bytes(), data);
        assert_eq!(Sealed::from_bytes(&sealed.to_bytes()).unwrap(), sealed);
        // No key for it in an empty store: refused, never opened.
        let keys = MemoryKeyStore::new();
        assert!(matches!(
            sealed.open(&keys),
            Err(SealError::Shredded { .. })
        ));
    }

    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(change) = Change::from_json(json) {
        let _ = (change.kind(), change.subject(), change.at());
        let printed = change.to_json().unwrap();
        let again = Change::from_json(&printed).unwrap();
        assert_eq!(again, change, "{printed}");
        assert_eq!(again.to_json().unwrap(), printed);
    }
});
