//! Why a policy was refused, and where.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::vocab::border::{Country, TransferBasis};
use crate::vocab::{BasisKind, FormKind};

/// A policy that could not be loaded: what is wrong and, when it came from text, the file,
/// line and column. Nothing of a refused policy is kept.
///
/// ```
/// use amanat::policy::{Policy, PolicyErrorKind};
///
/// let err = Policy::from_toml_str("version = 1\n").unwrap_err();
/// assert_eq!((err.line(), err.column()), (Some(1), Some(11)));
/// assert!(matches!(err.kind(), PolicyErrorKind::Syntax { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(Box<Inner>);

// Boxed: a policy error is rare, and a small `Result` keeps every loader step cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: PolicyErrorKind,
    span: Option<Range<usize>>,
    file: Option<PathBuf>,
    position: Option<(usize, usize)>,
}

/// What is wrong with a policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The file could not be read.
    #[error("can't read the policy: {reason}")]
    Unreadable {
        /// The operating system's reason.
        reason: String,
    },
    /// The text is not TOML, or a value has the wrong type or a key is missing.
    #[error("{message}")]
    Syntax {
        /// The parser's message.
        message: String,
    },
    /// A key the policy format does not have: a typo must not pass silently.
    #[error("unknown key: {message}")]
    UnknownKey {
        /// The parser's message, naming the key and the keys allowed there.
        message: String,
    },
    /// A value that is not allowed where it stands.
    #[error("invalid {field}: {reason}")]
    InvalidValue {
        /// The key.
        field: &'static str,
        /// What is allowed.
        reason: &'static str,
    },
    /// The jurisdiction pack named is not built in.
    #[error("unknown jurisdiction pack {pack}; built in: tajikistan-2018, uzbekistan-2019")]
    UnknownPack {
        /// The name given.
        pack: String,
    },
    /// The same id twice.
    #[error("duplicate {kind} {id}")]
    DuplicateId {
        /// What kind of thing.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A category used but not declared.
    #[error("category {category} used by {used_by} is not declared for it")]
    UndeclaredCategory {
        /// The category.
        category: String,
        /// Who uses it.
        used_by: String,
    },
    /// A purpose used but not declared.
    #[error("purpose {purpose} used by {used_by} is not declared")]
    UndeclaredPurpose {
        /// The purpose.
        purpose: String,
        /// Who uses it.
        used_by: String,
    },
    /// A (category, purpose) without a retention rule: every datum must have an end
    /// (Tajik law Art. 14.3; ZRU-547 Art. 10).
    #[error("no retention rule for category {category} used for purpose {purpose} ({article})")]
    MissingRetention {
        /// The category.
        category: String,
        /// The purpose.
        purpose: String,
        /// The rule, as the policy's pack cites it.
        article: &'static str,
    },
    /// A purpose asks for a weaker consent than the law requires for a category it uses.
    #[error(
        "purpose {purpose} uses category {category} with {declared} consent; the law requires written ({article})"
    )]
    WeakConsentForm {
        /// The purpose.
        purpose: String,
        /// The category.
        category: String,
        /// The form the policy declared.
        declared: FormKind,
        /// The article requiring written consent.
        article: &'static str,
    },
    /// A purpose that makes decisions solely by automated processing accepts a consent
    /// weaker than the pack's automated-decision rule asks (ZRU-547 Art. 24: written, an
    /// electronic document included).
    #[error(
        "purpose {purpose} makes automated decisions on {declared} consent; the law requires {required} ({article})"
    )]
    AutomatedDecisionForm {
        /// The purpose.
        purpose: String,
        /// The form the policy declared.
        declared: FormKind,
        /// The form the rule asks.
        required: FormKind,
        /// The rule.
        article: &'static str,
    },
    /// A purpose that makes decisions solely by automated processing stands on a basis the
    /// pack's rule does not accept: only consent, a contract, or a law (ZRU-547 Art. 24).
    #[error(
        "purpose {purpose} makes automated decisions on {basis}, which the law does not accept for them ({article})"
    )]
    AutomatedDecisionBasis {
        /// The purpose.
        purpose: String,
        /// The basis.
        basis: BasisKind,
        /// The rule.
        article: &'static str,
    },
    /// A policy declares something weaker than the law allows.
    #[error("{what} is weaker than the law allows ({article})")]
    WeakerThanLaw {
        /// What.
        what: String,
        /// The article.
        article: &'static str,
    },
    /// A purpose stands on a legal basis the pack's law does not accept without consent.
    #[error("purpose {purpose} stands on {basis}, which {pack} does not accept without consent")]
    BasisNotInPack {
        /// The purpose.
        purpose: String,
        /// The basis.
        basis: BasisKind,
        /// The pack.
        pack: &'static str,
    },
    /// A recipient abroad, in a country neither adequate nor covered by a stated transfer
    /// basis (Tajik law Art. 18; ZRU-547 Art. 15).
    #[error(
        "recipient {recipient} is in {country}, which is neither home, nor on the adequacy list, nor covered by a transfer_basis ({article})"
    )]
    TransferNotAllowed {
        /// The recipient.
        recipient: String,
        /// Its country.
        country: Country,
        /// The rule, as the policy's pack cites it.
        article: &'static str,
    },
    /// A recipient abroad on a transfer ground the pack's law does not accept on the
    /// policy's date.
    #[error("recipient {recipient} is abroad on {}, which {pack} does not accept on the policy's date", basis.name())]
    TransferBasisNotInPack {
        /// The recipient.
        recipient: String,
        /// The ground given.
        basis: TransferBasis,
        /// The pack.
        pack: &'static str,
    },
    /// Data sent abroad that the law keeps at home.
    #[error("category {category} may not go to recipient {recipient} in {country} ({article})")]
    LocalisedTransfer {
        /// The recipient.
        recipient: String,
        /// The category.
        category: String,
        /// Its country.
        country: Country,
        /// The localisation rule.
        article: &'static str,
    },
    /// A special category used on a basis that does not reach it: only consent, the law's
    /// own grounds (Tajik law Art. 17.2; ZRU-547 Art. 25, 26) and court acts do.
    #[error(
        "purpose {purpose} uses special category {category} on {basis}, which can't reach it ({article})"
    )]
    SpecialCategoryBasis {
        /// The purpose.
        purpose: String,
        /// The category.
        category: String,
        /// The basis.
        basis: BasisKind,
        /// The rule, as the policy's pack cites it.
        article: &'static str,
    },
    /// A purpose accepts a consent weaker than the law accepts at all.
    #[error(
        "purpose {purpose} accepts {declared} consent; the law wants at least {required} ({article})"
    )]
    ConsentFormBelowLaw {
        /// The purpose.
        purpose: String,
        /// The form declared.
        declared: FormKind,
        /// The weakest the law accepts.
        required: FormKind,
        /// Where that rule comes from.
        article: &'static str,
    },
    /// Data stored abroad that the law keeps at home.
    #[error("category {category} may not be stored in {country} ({article})")]
    StorageNotAllowed {
        /// The category.
        category: String,
        /// Where it would be stored.
        country: Country,
        /// The localisation rule.
        article: &'static str,
    },
    /// A calendar in which every day of the week is a day off: no deadline could be met.
    #[error("the calendar has no working day in the week")]
    NoWorkingDay,
    /// A placeholder — blank, "to be confirmed", "TBC", "not published" and the like —
    /// where the law wants a value, such as the registration (Art. 5.2). Strict loading
    /// refuses it; otherwise the policy loads and carries it as a warning
    /// ([`Policy::warnings`](crate::policy::Policy::warnings)). The value itself is not
    /// repeated.
    #[error("{field} is a placeholder, not a value: the policy does not give it yet")]
    Placeholder {
        /// The key, such as `operator.registration`.
        field: &'static str,
    },
}

impl PolicyError {
    pub(crate) fn new(kind: PolicyErrorKind) -> Self {
        Self(Box::new(Inner {
            kind,
            span: None,
            file: None,
            position: None,
        }))
    }

    pub(crate) fn at(mut self, span: Option<Range<usize>>) -> Self {
        self.0.span = span;
        self
    }

    /// Turns the byte span into a line and column of `text`, and names the file.
    pub(crate) fn locate(mut self, text: &str, file: Option<&Path>) -> Self {
        self.0.file = file.map(Path::to_path_buf);
        if let Some(span) = &self.0.span {
            let offset = span.start.min(text.len());
            let before = text.get(..offset).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before
                .rsplit('\n')
                .next()
                .map_or(0, |last| last.chars().count())
                + 1;
            self.0.position = Some((line, column));
        }
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &PolicyErrorKind {
        &self.0.kind
    }

    /// The file, when the policy was loaded from one.
    pub fn file(&self) -> Option<&Path> {
        self.0.file.as_deref()
    }

    /// The line, counted from 1, when the policy came from text and the error has a place.
    pub fn line(&self) -> Option<usize> {
        self.0.position.map(|(line, _)| line)
    }

    /// The column, counted in characters from 1.
    pub fn column(&self) -> Option<usize> {
        self.0.position.map(|(_, column)| column)
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.file, self.0.position) {
            (Some(file), Some((line, column))) => {
                write!(f, "{}:{line}:{column}: ", file.display())?;
            }
            (Some(file), None) => write!(f, "{}: ", file.display())?,
            (None, Some((line, column))) => write!(f, "line {line}, column {column}: ")?,
            (None, None) => {}
        }
        write!(f, "{}", self.0.kind)
    }
}

// No `source`: the kind is already in the message, and a reporter would print it twice.
impl std::error::Error for PolicyError {}
