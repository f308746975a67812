//! Identifier newtypes. Every id is a UUIDv7 (time-ordered, so ids sort by creation and
//! index well), wrapped so that a `TenantId` can never be passed where a `ConversationId`
//! is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new random, time-ordered id (UUIDv7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (read back from storage or the wire).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// One business on the platform.
    TenantId
);
id_type!(
    /// One website of a tenant.
    SiteId
);
id_type!(
    /// One operator account (a tenant's staff member).
    OperatorId
);
id_type!(
    /// One visitor (a person browsing a tenant's site), stable across their sessions.
    VisitorId
);
id_type!(
    /// One visitor session: a visitor token and the browser information it was issued to.
    VisitorSessionId
);
id_type!(
    /// One conversation between a visitor and operators.
    ConversationId
);
id_type!(
    /// One message of a conversation.
    MessageId
);
id_type!(
    /// One operator login session.
    SessionId
);
id_type!(
    /// One platform admin account.
    PlatformAdminId
);
id_type!(
    /// One audit log entry.
    AuditEntryId
);
id_type!(
    /// One department of a tenant (sales, support, ...).
    DepartmentId
);
id_type!(
    /// One canned response (a tenant's or an operator's saved reply).
    CannedResponseId
);
id_type!(
    /// One internal note on a conversation.
    NoteId
);

id_type!(
    /// One version of a tenant's (or a site's) exit survey. Editing a survey makes a new
    /// version with a new id; answers keep the id of the version they answered.
    SurveyId
);
id_type!(
    /// One question of an exit survey version, or one of the platform's own questions.
    QuestionId
);
id_type!(
    /// One visitor's submitted exit survey (at most one per conversation).
    SurveyResponseId
);
id_type!(
    /// One offline message left for a tenant (B4).
    TicketId
);
id_type!(
    /// One operator note on a ticket.
    TicketNoteId
);
id_type!(
    /// One support request to the platform (M5).
    SupportRequestId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn id_display_parse_round_trip(bytes in any::<u128>()) {
            let id = ConversationId::from_uuid(Uuid::from_u128(bytes));
            let parsed: ConversationId = id.to_string().parse().expect("parses");
            prop_assert_eq!(parsed, id);
        }
    }

    #[test]
    fn new_ids_are_time_ordered() {
        let first = MessageId::new();
        let second = MessageId::new();
        assert!(first < second);
        assert_eq!(first.as_uuid().get_version_num(), 7);
    }
}
