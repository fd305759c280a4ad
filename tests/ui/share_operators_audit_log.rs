// An operator's audit trail is lent, not shared: a ledger, schedule or register of yours
// can't be built on it to write into it (a found attack: a ledger built on it put a
// consent no one gave into the trail), and it can't be kept past the operator (another:
// a log kept past it wrote into the directory the next operator had opened).
use std::sync::Arc;

use amanat::audit::AuditLog;
use amanat::store::Operator;

fn share(operator: &Operator) -> Arc<AuditLog> {
    Arc::clone(operator.audit_log())
}

fn main() {}
