//! The record of processing activities: a policy as a compliance officer reads it.

use std::fmt::Write as _;

use super::{
    DayCount, Deadline, Policy, RecipientRole, RetentionRule, RetentionStart, TransferBasis,
};
use crate::vocab::BasisKind;

impl Policy {
    /// The policy as a record of processing activities, in Markdown: the operator, the
    /// purposes with their legal bases, the categories, the recipients and their
    /// countries, retention, transfers abroad and their grounds, storage and working days.
    /// Holds no personal data: a policy has none.
    ///
    /// ```
    /// # let policy = amanat::policy::Policy::from_toml_str(include_str!(
    /// #     "../../examples/policies/imanum.toml")).unwrap();
    /// let report = policy.to_markdown();
    /// assert!(report.starts_with("# Record of processing activities"));
    /// assert!(report.contains("CredoLab Pte Ltd"));
    /// ```
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        // Writing to a String can't fail; the Result is fmt::Write's, not ours.
        let _ = self.write_markdown(&mut out);
        out
    }

    /// The data flow as a Mermaid flowchart: categories → purposes → recipients, with the
    /// edges that cross a border drawn dotted and labelled with the country and the ground.
    ///
    /// ```
    /// # let policy = amanat::policy::Policy::from_toml_str(include_str!(
    /// #     "../../examples/policies/imanum.toml")).unwrap();
    /// let diagram = policy.to_mermaid();
    /// assert!(diagram.starts_with("flowchart LR"));
    /// assert!(diagram.contains("-. \"abroad: SG, consent\" .->"));
    /// ```
    pub fn to_mermaid(&self) -> String {
        let mut out = String::new();
        // Writing to a String can't fail; the Result is fmt::Write's, not ours.
        let _ = self.write_mermaid(&mut out);
        out
    }

    fn write_markdown(&self, out: &mut String) -> std::fmt::Result {
        let pack = self.pack();
        let op = self.operator();
        writeln!(out, "# Record of processing activities\n")?;
        writeln!(
            out,
            "Policy **{}**, in force from {}, under {} (pack `{}`).{}\n",
            self.version(),
            self.date(),
            pack.title,
            pack.id,
            if self.requires_reconsent() {
                " Adopting it requires every subject to consent again."
            } else {
                ""
            }
        )?;
        writeln!(out, "## Operator\n")?;
        writeln!(out, "| | |\n| --- | --- |")?;
        writeln!(out, "| name | {} |", cell(&op.name))?;
        writeln!(out, "| address | {} |", cell(&op.address))?;
        writeln!(out, "| contact | {} |", cell(op.contact_or_not_published()))?;
        writeln!(
            out,
            "| registration ({}) | {} |\n",
            pack.articles.registration.article,
            cell(&op.registration)
        )?;

        writeln!(out, "## Purposes and their legal bases\n")?;
        writeln!(
            out,
            "| purpose | what for | legal basis | categories | consent form | notes |\n| --- | --- | --- | --- | --- | --- |"
        )?;
        for p in self.purposes() {
            let categories: Vec<String> = p
                .categories
                .iter()
                .map(|c| match self.required_form(&p.id, c) {
                    Some(form) if p.basis == BasisKind::Consent => format!("{c} ({form})"),
                    _ => c.clone(),
                })
                .collect();
            let mut notes = Vec::new();
            if p.service {
                notes.push("the service itself: withdrawing it ends use of the service".to_owned());
            }
            if p.depersonalised {
                notes.push("depersonalised data only".to_owned());
            }
            if let Some(decision) = &p.automated_decision {
                let rule = pack
                    .automated_decisions
                    .map(|r| format!(" ({})", r.citation.article))
                    .unwrap_or_default();
                notes.push(format!(
                    "decides solely by automated processing{rule}: {}; may lead to: {}; the \
                     subject may object",
                    cell(&decision.logic),
                    cell(&decision.effects)
                ));
            }
            let basis = if p.basis == BasisKind::Consent {
                "consent".to_owned()
            } else {
                let article = pack
                    .accepts_basis(p.basis.name())
                    .map_or("", |rule| rule.citation.article);
                format!("{} ({article})", p.basis)
            };
            writeln!(
                out,
                "| `{}` | {} | {basis} | {} | {} | {} |",
                p.id,
                cell(&p.description),
                categories.join(", "),
                if p.basis == BasisKind::Consent {
                    p.consent_form.to_string()
                } else {
                    "—".to_owned()
                },
                notes.join("; ")
            )?;
        }

        writeln!(out, "\n## Categories of data\n")?;
        writeln!(
            out,
            "| category | what | special (written consent) | access |\n| --- | --- | --- | --- |"
        )?;
        for c in self.categories() {
            writeln!(
                out,
                "| `{}` | {} | {} | {:?} |",
                c.id,
                cell(&c.description),
                if c.special { "yes" } else { "no" },
                c.access
            )?;
        }

        writeln!(out, "\n## Recipients\n")?;
        writeln!(
            out,
            "| recipient | role | address | country | purposes | categories |\n| --- | --- | --- | --- | --- | --- |"
        )?;
        for r in self.recipients() {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&r.name),
                role(r.role),
                cell(&r.address),
                r.country,
                list(r.purposes.iter().map(ToString::to_string)),
                list(r.categories.iter().cloned()),
            )?;
        }

        writeln!(
            out,
            "\n## Transfers abroad ({})\n",
            pack.articles.transfers_abroad.article
        )?;
        let abroad: Vec<_> = self
            .recipients()
            .iter()
            .filter(|r| r.country != pack.home)
            .collect();
        if abroad.is_empty() {
            writeln!(out, "None: every recipient is in {}.", pack.home)?;
        } else {
            writeln!(out, "| recipient | country | ground |\n| --- | --- | --- |")?;
            for r in abroad {
                writeln!(
                    out,
                    "| {} | {} | {} |",
                    cell(&r.name),
                    r.country,
                    self.ground_abroad(r.country, r.transfer_basis)
                )?;
            }
        }

        writeln!(
            out,
            "\n## Retention ({})\n",
            pack.articles.retention.article
        )?;
        writeln!(
            out,
            "| category | purpose | kept | set by | reference |\n| --- | --- | --- | --- | --- |"
        )?;
        for r in self.retention() {
            let mut set_by = r
                .source
                .map_or("not stated", super::RetentionSource::describe)
                .to_owned();
            if !r.note.is_empty() {
                set_by = format!("{set_by}: {}", r.note);
            }
            writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} |",
                r.category,
                r.purpose,
                period(r),
                cell(&set_by),
                cell(&r.reference)
            )?;
        }

        writeln!(
            out,
            "\n### What outlives the account's closure ({})\n",
            pack.articles.retention.article
        )?;
        writeln!(
            out,
            "Closing the account ends every period above, whatever it counts from; what is \
             counted from the closure runs from then. Kept longer only where a law says so:\n"
        )?;
        let after_closure: Vec<&RetentionRule> = self
            .retention()
            .iter()
            .filter(|r| {
                r.after == RetentionStart::RelationshipEnd
                    && (r.years, r.months, r.days) != (0, 0, 0)
            })
            .collect();
        if after_closure.is_empty() && self.minimums().is_empty() {
            writeln!(out, "- nothing")?;
        }
        for r in after_closure {
            writeln!(
                out,
                "- `{}` collected for `{}`: {} ({})",
                r.category,
                r.purpose,
                period(r),
                cell(&r.reference)
            )?;
        }
        for m in self.minimums() {
            let start = match m.after {
                RetentionStart::RelationshipEnd => "the account is closed",
                _ => "collection",
            };
            writeln!(
                out,
                "- `{}`, whatever purpose collected it: at least {} after {start}, under {}; \
                 meanwhile readable only for `{}`",
                m.category,
                super::decl::period_text(m.years, m.months, m.days),
                cell(&m.citation()),
                m.readable_for
            )?;
        }

        writeln!(out, "\n## Storage ({})\n", pack.articles.storage.article)?;
        for s in self.storage() {
            let what = if s.categories.is_empty() {
                "all categories".to_owned()
            } else {
                list(s.categories.iter().cloned())
            };
            write!(out, "- {}: {what}", s.country)?;
            if let Some(agreement) = &s.agreement {
                write!(out, " (agreement: {})", cell(agreement))?;
            }
            writeln!(out)?;
        }
        if self.storage().is_empty() {
            writeln!(out, "No storage location declared.")?;
        }

        let calendar = self.calendar();
        writeln!(out, "\n## Working days\n")?;
        writeln!(
            out,
            "Weekend: {}. Yearly holidays: {}. One-off days off: {}. Subjects' requests are \
             answered within {} ({}); transfer notices are due within {} ({}).",
            list(calendar.weekend().iter().map(ToString::to_string)),
            list(
                calendar
                    .fixed_holidays()
                    .map(|(m, d)| format!("{m:02}-{d:02}"))
            ),
            list(calendar.days_off().map(|d| d.to_string())),
            days(&pack.subject_request),
            pack.subject_request.citation.article,
            days(&pack.transfer_notice),
            pack.transfer_notice.citation.article,
        )?;
        for (kind, deadline) in pack.request_deadlines {
            let how = if deadline.citation.secondary {
                format!("{}: {}", deadline.citation.article, deadline.citation.note)
            } else {
                deadline.citation.article.to_owned()
            };
            let within = days(deadline);
            let within = if deadline.days == 0 {
                within
            } else {
                format!("within {within}")
            };
            writeln!(out, "- a request for {kind:?}: {within} ({how})")?;
        }

        writeln!(out, "\n## Data flow\n\n```mermaid")?;
        self.write_mermaid(out)?;
        writeln!(out, "```")
    }

    fn ground_abroad(&self, country: super::Country, basis: Option<TransferBasis>) -> &'static str {
        if self.adequacy().contains(&country) {
            return "adequate protection";
        }
        match basis {
            Some(TransferBasis::Consent) => "consent",
            Some(TransferBasis::Treaty) => "treaty",
            Some(TransferBasis::Law) => "law",
            Some(TransferBasis::ProtectionOfRights) => "protection of rights",
            Some(TransferBasis::StandardClauses) => "standard clauses",
            Some(TransferBasis::InternationalStandards) => "international standards",
            None => "none",
        }
    }

    fn write_mermaid(&self, out: &mut String) -> std::fmt::Result {
        writeln!(out, "flowchart LR")?;
        writeln!(out, "  subgraph categories [Categories]")?;
        for c in self.categories() {
            let shape = if c.special { "{{" } else { "[" };
            let close = if c.special { "}}" } else { "]" };
            writeln!(out, "    c_{}{shape}\"{}\"{close}", c.id, label(&c.id))?;
        }
        writeln!(out, "  end")?;
        writeln!(out, "  subgraph purposes [Purposes]")?;
        for p in self.purposes() {
            writeln!(
                out,
                "    p_{}([\"{} · {}\"])",
                p.id,
                label(p.id.as_str()),
                p.basis
            )?;
        }
        writeln!(out, "  end")?;
        writeln!(out, "  subgraph recipients [Recipients]")?;
        for r in self.recipients() {
            writeln!(
                out,
                "    r_{}[[\"{} · {}\"]]",
                node(&r.id),
                label(&r.name),
                r.country
            )?;
        }
        writeln!(out, "  end")?;
        for p in self.purposes() {
            for c in &p.categories {
                writeln!(out, "  c_{c} --> p_{}", p.id)?;
            }
        }
        for r in self.recipients() {
            for p in &r.purposes {
                if r.country == self.pack().home {
                    writeln!(out, "  p_{p} --> r_{}", node(&r.id))?;
                } else {
                    writeln!(
                        out,
                        "  p_{p} -. \"abroad: {}, {}\" .-> r_{}",
                        r.country,
                        self.ground_abroad(r.country, r.transfer_basis),
                        node(&r.id)
                    )?;
                }
            }
        }
        Ok(())
    }
}

fn days(deadline: &Deadline) -> String {
    if deadline.days == 0 {
        return "the same day".to_owned();
    }
    let unit = match deadline.counted_in {
        DayCount::Working => "working days",
        DayCount::Calendar => "days",
    };
    format!("{} {unit}", deadline.days)
}

fn role(role: RecipientRole) -> &'static str {
    match role {
        RecipientRole::Processor => "processor",
        RecipientRole::ThirdParty => "third party",
        RecipientRole::StateBody => "state body",
    }
}

fn period(rule: &RetentionRule) -> String {
    let mut parts = Vec::new();
    for (n, unit) in [
        (rule.years, "year"),
        (rule.months, "month"),
        (rule.days, "day"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
        }
    }
    let start = match rule.after {
        RetentionStart::Collection => "collection",
        RetentionStart::PurposeAchieved => "the purpose is achieved",
        RetentionStart::RelationshipEnd => "the account is closed",
    };
    if parts.is_empty() {
        format!("until {start}")
    } else {
        format!("{} after {start}", parts.join(" "))
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<_> = items.collect();
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// Text inside a Markdown table cell: a `|` or a line break would break the table.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Text inside a quoted Mermaid label, on one line.
fn label(text: &str) -> String {
    text.replace('"', "'").replace(['\n', '\r'], " ")
}

/// A Mermaid node id from a recipient id (`a-b` and `a_b` stay apart).
fn node(id: &str) -> String {
    id.replace('_', "__").replace('-', "_h")
}
