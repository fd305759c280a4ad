//! [`PolicyBuilder`]: a policy made in code, checked as a file is.

use super::{
    CategoryDecl, Country, Policy, PolicyError, PurposeDecl, Recipient, RetentionRule,
    StatutoryMinimum, StorageLocation, WorkingCalendar, raw, validate::Draft, validate::Located,
};

/// Builds a [`Policy`] in code; see [`Policy::builder`].
#[derive(Debug)]
#[must_use = "call build() to get the policy"]
pub struct PolicyBuilder {
    pub(super) draft: Draft,
}

impl PolicyBuilder {
    /// Declares a category; special and access come from the law's defaults.
    pub fn category(mut self, id: impl Into<String>) -> Self {
        self.draft.categories.push(Located::new(raw::RawCategory {
            id: id.into(),
            special: None,
            access: None,
            description: String::new(),
        }));
        self
    }

    /// Declares a category with everything spelt out: whether it is special (it can't be
    /// weaker than the law), its access and its description.
    pub fn category_decl(mut self, decl: CategoryDecl) -> Self {
        self.draft.categories.push(Located::new(raw::RawCategory {
            id: decl.id,
            special: Some(decl.special),
            access: Some(decl.access),
            description: decl.description,
        }));
        self
    }

    /// Declares a purpose.
    pub fn purpose(mut self, purpose: PurposeDecl) -> Self {
        self.draft.purposes.push(Located::new(purpose));
        self
    }

    /// Adds a retention rule.
    pub fn retention(mut self, rule: RetentionRule) -> Self {
        self.draft.retention.push(Located::new(rule));
        self
    }

    /// Adds a statutory minimum: a period a law keeps a category for, whatever purpose
    /// collected it.
    pub fn minimum(mut self, minimum: StatutoryMinimum) -> Self {
        self.draft.minimums.push(Located::new(minimum));
        self
    }

    /// Declares a recipient.
    pub fn recipient(mut self, recipient: Recipient) -> Self {
        self.draft.recipients.push(Located::new(recipient));
        self
    }

    /// Adds a country to the adequacy list.
    pub fn adequate(mut self, country: Country) -> Self {
        self.draft.adequacy.push(Located::new(country));
        self
    }

    /// Adds a storage location.
    pub fn storage(mut self, location: StorageLocation) -> Self {
        self.draft.storage.push(Located::new(location));
        self
    }

    /// Sets the working-day calendar. Default: the pack's weekend, no holidays.
    pub fn calendar(mut self, calendar: WorkingCalendar) -> Self {
        self.draft.calendar = Some(Located::new(calendar));
        self
    }

    /// Makes adopting this policy require every subject to consent again.
    pub fn requires_reconsent(mut self, yes: bool) -> Self {
        self.draft.requires_reconsent = yes;
        self
    }

    /// Refuses a placeholder where the law wants a value — a registration that is blank or
    /// reads "to be confirmed" — rather than carrying it as a warning
    /// ([`Policy::warnings`]). Default: not strict.
    ///
    /// ```
    /// # use amanat::policy::{JurisdictionPack, Operator, Policy, PolicyErrorKind};
    /// # use amanat::PolicyVersion;
    /// # use chrono::NaiveDate;
    /// let operator = Operator {
    ///     name: "Shop LLC".into(),
    ///     address: "Dushanbe".into(),
    ///     contact: None,
    ///     registration: "TBC".into(),
    ///     methods: Vec::new(),
    ///     access: Vec::new(),
    ///     phone: None,
    ///     policy_url: None,
    /// };
    /// let draft = |strict| {
    ///     Policy::builder(
    ///         PolicyVersion::new("shop-1").unwrap(),
    ///         NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
    ///         &JurisdictionPack::TAJIKISTAN_2018,
    ///         operator.clone(),
    ///     )
    ///     .strict(strict)
    ///     .build()
    /// };
    /// assert_eq!(draft(false)?.warnings().len(), 1);
    /// assert!(matches!(
    ///     draft(true).unwrap_err().kind(),
    ///     PolicyErrorKind::Placeholder { field: "operator.registration" }
    /// ));
    /// # Ok::<(), amanat::policy::PolicyError>(())
    /// ```
    pub fn strict(mut self, yes: bool) -> Self {
        self.draft.strict = yes;
        self
    }

    /// Checks the policy and builds it.
    ///
    /// # Errors
    ///
    /// A [`PolicyError`] (without a position) naming the first thing that makes the policy
    /// unenforceable; in [`strict`](Self::strict) mode, also a placeholder registration.
    pub fn build(self) -> Result<Policy, PolicyError> {
        self.draft.validate()
    }
}
