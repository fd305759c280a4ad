//! How a time is written: as chrono writes it (RFC 3339) in a format people read, JSON
//! among them, and as seconds and nanoseconds in a compact binary one, where parsing text
//! would cost more than everything else an operator's snapshot holds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// For `#[serde(with = "crate::vocab::when")]` on a `DateTime<Utc>`.
pub(crate) fn serialize<S: Serializer>(at: &DateTime<Utc>, to: S) -> Result<S::Ok, S::Error> {
    if to.is_human_readable() {
        at.serialize(to)
    } else {
        (at.timestamp(), at.timestamp_subsec_nanos()).serialize(to)
    }
}

/// For `#[serde(with = "crate::vocab::when")]` on a `DateTime<Utc>`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<DateTime<Utc>, D::Error> {
    if from.is_human_readable() {
        DateTime::deserialize(from)
    } else {
        let (secs, nanos) = <(i64, u32)>::deserialize(from)?;
        DateTime::from_timestamp(secs, nanos)
            .ok_or_else(|| serde::de::Error::custom("a time out of range"))
    }
}

/// For `#[serde(with = "crate::vocab::when::option")]` on an `Option<DateTime<Utc>>`.
pub(crate) mod option {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// A time, in the form [`super`] writes it.
    #[derive(serde::Serialize, Deserialize)]
    #[serde(transparent)]
    struct When(#[serde(with = "super")] DateTime<Utc>);

    #[allow(clippy::ref_option)] // The signature `#[serde(with)]` calls.
    pub(crate) fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&at.map(When), to)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        from: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<When>::deserialize(from)?.map(|when| when.0))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Times {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(with = "super::option")]
        until: Option<DateTime<Utc>>,
    }

    #[test]
    fn a_time_is_text_in_json_and_two_numbers_in_postcard_and_reads_back_whole() {
        let times = Times {
            at: Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap()
                + chrono::TimeDelta::nanoseconds(7),
            until: None,
        };
        let json = serde_json::to_string(&times).unwrap();
        assert_eq!(
            json,
            r#"{"at":"2026-01-05T09:00:00.000000007Z","until":null}"#
        );
        assert_eq!(serde_json::from_str::<Times>(&json).unwrap(), times);
        #[cfg(feature = "sqlite")]
        {
            let bytes = postcard::to_stdvec(&times).unwrap();
            assert_eq!(postcard::from_bytes::<Times>(&bytes).unwrap(), times);
            assert!(bytes.len() < 16, "{} bytes", bytes.len());
        }
    }
}
