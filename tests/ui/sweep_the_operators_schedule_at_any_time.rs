// An operator's sweeps check their time against its clock: its schedule, as the operator
// lends it, has no sweep or trigger that takes any time.
use amanat::retention::Trigger;
use amanat::store::Operator;
use amanat::SubjectId;
use chrono::{TimeDelta, Utc};

fn ten_years_ahead(operator: &Operator, subject: &SubjectId) {
    let later = Utc::now() + TimeDelta::days(3650);
    operator.schedule().trigger(subject, Trigger::AccountClosed, later);
    operator.schedule().sweep(later);
}

fn main() {}
