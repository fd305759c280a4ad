//! Who replays a change at open: the consent ledger, the rest of the operator (the
//! retention schedule, the registers, the policy in force), or both.

use crate::audit::Event;
use crate::error::StoreError;
use crate::event::Change;

/// Whether `event` is a change the consent ledger replays.
pub(super) fn is_ledger_change(event: &Event) -> bool {
    matches!(
        event,
        Event::ConsentGiven { .. }
            | Event::ConsentRenewed { .. }
            | Event::ConsentWithdrawn { .. }
            | Event::ConsentInvalidated { .. }
            | Event::LegalBasisUsed { .. }
    )
}

/// Whether the rest must hear `event`, a ledger change, too: a withdrawal the retention
/// schedule heard of when it was made.
pub(super) fn is_heard(event: &Event) -> bool {
    matches!(
        event,
        Event::ConsentWithdrawn {
            retention: true,
            ..
        }
    )
}

/// Hands `change` to whoever replays it: `ledger`, `rest`, or both.
pub(super) fn route(
    change: Change,
    ledger: &dyn Fn(Change) -> Result<(), StoreError>,
    rest: &mut dyn FnMut(Change) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if !is_ledger_change(change.event()) {
        return rest(change);
    }
    if is_heard(change.event()) {
        rest(change.clone())?;
    }
    ledger(change)
}
