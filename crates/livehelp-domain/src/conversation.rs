//! The conversation state machine: `queued` → `active` → `ended`, or `queued` → `ended`
//! when the visitor gives up waiting. `ended` is final. The store applies these same rules
//! atomically (a conditional update), this module states them once and is what the tests
//! check them against.

use thiserror::Error;

use crate::ids::OperatorId;

/// Where a conversation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationState {
    /// Waiting for an operator.
    Queued,
    /// An operator has accepted it.
    Active,
    /// Over; nothing more can be written to it.
    Ended,
}

impl ConversationState {
    /// The stable name used in storage and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Queued => "queued",
            ConversationState::Active => "active",
            ConversationState::Ended => "ended",
        }
    }

    /// Parses a stable name back.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "queued" => Some(ConversationState::Queued),
            "active" => Some(ConversationState::Active),
            "ended" => Some(ConversationState::Ended),
            _ => None,
        }
    }

    /// The state after `transition`, or why it is not allowed.
    pub fn apply(self, transition: Transition) -> Result<ConversationState, TransitionError> {
        match (self, transition) {
            (ConversationState::Queued, Transition::Accept(_)) => Ok(ConversationState::Active),
            (ConversationState::Active, Transition::Accept(_)) => {
                Err(TransitionError::AlreadyAssigned)
            }
            (ConversationState::Queued | ConversationState::Active, Transition::End(_)) => {
                Ok(ConversationState::Ended)
            }
            (ConversationState::Ended, _) => Err(TransitionError::Ended),
        }
    }
}

/// Who ended a conversation and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The visitor closed the chat.
    VisitorEnded,
    /// An operator closed the chat.
    OperatorEnded(OperatorId),
    /// The visitor left before any operator accepted.
    VisitorAbandoned,
}

impl EndReason {
    /// The stable name of the reason (without the operator id).
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::VisitorEnded => "visitor_ended",
            EndReason::OperatorEnded(_) => "operator_ended",
            EndReason::VisitorAbandoned => "visitor_abandoned",
        }
    }

    /// The operator who ended the conversation, for `OperatorEnded`.
    pub fn operator(self) -> Option<OperatorId> {
        match self {
            EndReason::OperatorEnded(operator) => Some(operator),
            EndReason::VisitorEnded | EndReason::VisitorAbandoned => None,
        }
    }

    /// Rebuilds a reason from its stable name and the ending operator (required for
    /// `operator_ended`, ignored otherwise); `None` when they do not fit together.
    pub fn from_parts(name: &str, operator: Option<OperatorId>) -> Option<Self> {
        match (name, operator) {
            ("visitor_ended", _) => Some(EndReason::VisitorEnded),
            ("visitor_abandoned", _) => Some(EndReason::VisitorAbandoned),
            ("operator_ended", Some(operator)) => Some(EndReason::OperatorEnded(operator)),
            _ => None,
        }
    }
}

/// A change of state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// An operator takes the chat.
    Accept(OperatorId),
    /// The chat ends.
    End(EndReason),
}

/// Why a transition is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TransitionError {
    /// Another operator (or this one) already accepted it.
    #[error("the conversation is already assigned")]
    AlreadyAssigned,
    /// It is over.
    #[error("the conversation has ended")]
    Ended,
}

/// The end reason for a visitor closing a chat in `state`: ending while still queued is
/// abandoning the queue.
pub fn visitor_end_reason(state: ConversationState) -> EndReason {
    match state {
        ConversationState::Queued => EndReason::VisitorAbandoned,
        _ => EndReason::VisitorEnded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn transition() -> impl Strategy<Value = Transition> {
        prop_oneof![
            Just(Transition::Accept(OperatorId::new())),
            Just(Transition::End(EndReason::VisitorEnded)),
        ]
    }

    proptest! {
        /// Any sequence of transitions: at most one accept succeeds, nothing leaves `ended`,
        /// and the state never goes backwards.
        #[test]
        fn state_machine_invariants(transitions in proptest::collection::vec(transition(), 0..12)) {
            let mut state = ConversationState::Queued;
            let mut accepts = 0;
            for transition in transitions {
                let before = state;
                if let Ok(next) = state.apply(transition) {
                    if matches!(transition, Transition::Accept(_)) { accepts += 1; }
                    prop_assert!(rank(next) > rank(before));
                    state = next;
                } else {
                    prop_assert!(before != ConversationState::Queued || !matches!(transition, Transition::End(_)));
                }
            }
            prop_assert!(accepts <= 1);
        }
    }

    fn rank(state: ConversationState) -> u8 {
        match state {
            ConversationState::Queued => 0,
            ConversationState::Active => 1,
            ConversationState::Ended => 2,
        }
    }

    #[test]
    fn end_reasons_round_trip_through_their_parts() {
        let operator = OperatorId::new();
        for reason in [
            EndReason::VisitorEnded,
            EndReason::VisitorAbandoned,
            EndReason::OperatorEnded(operator),
        ] {
            assert_eq!(
                EndReason::from_parts(reason.as_str(), reason.operator()),
                Some(reason)
            );
        }
        assert_eq!(EndReason::from_parts("operator_ended", None), None);
        assert_eq!(EndReason::from_parts("lost", None), None);
    }

    #[test]
    fn names_round_trip() {
        for state in [
            ConversationState::Queued,
            ConversationState::Active,
            ConversationState::Ended,
        ] {
            assert_eq!(ConversationState::parse(state.as_str()), Some(state));
        }
    }
}
