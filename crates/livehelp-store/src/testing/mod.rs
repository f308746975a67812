//! The conformance suite every store backend passes (feature `testing`).
//!
//! Each check is a plain `pub async fn name(store: Arc<dyn Store>)` that panics on
//! failure, so a backend's integration tests call them one by one (one `#[tokio::test]`
//! each, on a fresh store) and [`run_all`] runs them all on one shared store. The checks
//! create their own tenants with fresh ids and never look at data they did not create, so
//! they can share a store. Run them on a multi-threaded runtime: several spawn racing
//! tasks.
//!
//! Instants written by the suite are whole microseconds, the precision every backend
//! keeps, so values read back must equal the values written, field by field.
//!
//! The checks are grouped by what they exercise: `append` (the message writer: `seq`,
//! idempotency, state rules, races, close), `conversations` (conversation and message
//! reads, the queue and active lists), `history` (the paged conversation history and the
//! per-visitor count), `entities` (tenants, sites, operators, visitors and their
//! sessions), `accounts` (site and operator edits), `logins` (lock-out, session list and
//! revocation, password resets), `platform` (the tenant list and status, platform
//! admins), `audit` (the audit log), `routing` (departments, routing settings, chat
//! limits, the routing effects of `append` and the reads routing makes), `tools` (canned
//! responses, notes, tags and the tag filter), `surveys` (exit survey versions, responses,
//! refusals and the platform's questions), `forms` (site forms, pre-chat answers, tickets,
//! support requests), `page_views` (page-view tallies, page trails, tracking settings),
//! `reports` (report facts and visitor details), `archive` (tenant export and import), and
//! `isolation` (one tenant never reaches another's
//! data; the checks of `accounts`, `logins` and `audit` also try each of their methods
//! with another tenant's ids). `fixtures` holds the [`Fixture`] and request builders that
//! backends' own tests and benchmarks use too; `expect` the assertion helpers. Everything
//! public is re-exported here, so callers write `livehelp_store::testing::name`.

mod accounts;
mod append;
mod archive;
mod audit;
mod conversations;
mod entities;
mod expect;
mod fixtures;
mod forms;
mod history;
mod isolation;
mod logins;
mod page_views;
mod platform;
mod reports;
mod routing;
mod surveys;
mod tools;

use std::sync::Arc;

use crate::Store;

pub use accounts::{operator_updates_replace_account_fields, site_updates_keep_key_and_id};
pub use append::{
    accept_race_has_one_winner, append_assigns_gapless_seq, append_is_idempotent,
    client_msg_id_reuse_is_refused, close_answers_queued_appends_then_refuses,
    ended_conversation_refuses_writes, open_gives_one_conversation_per_visitor,
    operator_writes_need_the_owner, visitors_write_only_their_own_conversation,
};
pub use archive::tenant_archive_is_whole_and_clashing_imports_change_nothing;
pub use audit::audit_log_pages_newest_first;
pub use conversations::{
    conversation_and_messages_round_trip, list_messages_pages,
    message_text_round_trips_byte_for_byte, queue_and_operator_lists,
};
pub use entities::{
    entities_round_trip, entry_lookups_and_conflicts, expired_operator_sessions_are_not_returned,
    latest_visitor_session, operator_status_updates, visitor_session_page_and_touch,
};
pub use fixtures::{
    Fixture, accept, end, new_message, now, open_request, open_with_key, operator_message,
    random_csrf_token, random_token, unique_email, unique_site_key, visitor_message,
};
pub use forms::{
    prechat_is_stored_once_with_the_conversation, site_forms_round_trip,
    support_requests_round_trip, tickets_and_notes,
};
pub use history::{
    conversations_are_counted_per_visitor, list_conversations_breaks_ties_by_id,
    list_conversations_filters, list_conversations_pages_newest_first,
};
pub use isolation::tenants_are_isolated;
pub use logins::{
    concurrent_login_failures_lock_once, concurrent_password_reset_has_one_winner,
    login_failures_lock_the_account, operator_sessions_list_and_revoke,
    password_resets_are_used_once,
};
pub use page_views::{
    page_trail_round_trips_and_expires, page_view_tallies_add_up, tracking_settings_round_trip,
};
pub use platform::{platform_admins_by_email, tenants_list_and_status};
pub use reports::{conversation_facts_of_a_range, visitor_details_round_trip};
pub use routing::{
    accept_and_assign_respect_the_limit, departments_crud, join_and_participant_messages,
    limit_holds_under_racing_assignments, list_open_conversations_oldest_first,
    operator_max_chats_round_trip, queue_positions_per_department,
    recent_assignments_by_department_and_time, requeue_rules, routing_effects_are_idempotent,
    routing_is_tenant_isolated, routing_settings_round_trip, site_default_department_round_trip,
    transfer_rules, unanswered_conversations,
};
pub use surveys::{
    platform_questions_and_answers, survey_refusals_are_counted_per_site_and_day,
    survey_response_once_per_conversation, survey_versions_are_numbered_per_scope,
};
pub use tools::{
    canned_responses_by_scope, list_conversations_filters_by_tag, notes_round_trip_in_order,
    tags_have_a_limit,
};

/// Runs every check on `store`, [`close_answers_queued_appends_then_refuses`] last since it
/// closes the store.
pub async fn run_all(store: Arc<dyn Store>) {
    append_assigns_gapless_seq(store.clone()).await;
    append_is_idempotent(store.clone()).await;
    client_msg_id_reuse_is_refused(store.clone()).await;
    open_gives_one_conversation_per_visitor(store.clone()).await;
    accept_race_has_one_winner(store.clone()).await;
    ended_conversation_refuses_writes(store.clone()).await;
    operator_writes_need_the_owner(store.clone()).await;
    visitors_write_only_their_own_conversation(store.clone()).await;
    tenants_are_isolated(store.clone()).await;
    list_messages_pages(store.clone()).await;
    queue_and_operator_lists(store.clone()).await;
    list_conversations_pages_newest_first(store.clone()).await;
    list_conversations_breaks_ties_by_id(store.clone()).await;
    list_conversations_filters(store.clone()).await;
    conversations_are_counted_per_visitor(store.clone()).await;
    entities_round_trip(store.clone()).await;
    conversation_and_messages_round_trip(store.clone()).await;
    message_text_round_trips_byte_for_byte(store.clone()).await;
    tenant_archive_is_whole_and_clashing_imports_change_nothing(store.clone()).await;
    entry_lookups_and_conflicts(store.clone()).await;
    expired_operator_sessions_are_not_returned(store.clone()).await;
    operator_status_updates(store.clone()).await;
    visitor_session_page_and_touch(store.clone()).await;
    latest_visitor_session(store.clone()).await;
    site_updates_keep_key_and_id(store.clone()).await;
    operator_updates_replace_account_fields(store.clone()).await;
    login_failures_lock_the_account(store.clone()).await;
    concurrent_login_failures_lock_once(store.clone()).await;
    operator_sessions_list_and_revoke(store.clone()).await;
    password_resets_are_used_once(store.clone()).await;
    concurrent_password_reset_has_one_winner(store.clone()).await;
    tenants_list_and_status(store.clone()).await;
    platform_admins_by_email(store.clone()).await;
    audit_log_pages_newest_first(store.clone()).await;
    departments_crud(store.clone()).await;
    routing_settings_round_trip(store.clone()).await;
    site_default_department_round_trip(store.clone()).await;
    operator_max_chats_round_trip(store.clone()).await;
    accept_and_assign_respect_the_limit(store.clone()).await;
    limit_holds_under_racing_assignments(store.clone()).await;
    transfer_rules(store.clone()).await;
    requeue_rules(store.clone()).await;
    join_and_participant_messages(store.clone()).await;
    queue_positions_per_department(store.clone()).await;
    recent_assignments_by_department_and_time(store.clone()).await;
    list_open_conversations_oldest_first(store.clone()).await;
    unanswered_conversations(store.clone()).await;
    routing_effects_are_idempotent(store.clone()).await;
    routing_is_tenant_isolated(store.clone()).await;
    canned_responses_by_scope(store.clone()).await;
    notes_round_trip_in_order(store.clone()).await;
    tags_have_a_limit(store.clone()).await;
    list_conversations_filters_by_tag(store.clone()).await;
    survey_versions_are_numbered_per_scope(store.clone()).await;
    survey_response_once_per_conversation(store.clone()).await;
    survey_refusals_are_counted_per_site_and_day(store.clone()).await;
    platform_questions_and_answers(store.clone()).await;
    site_forms_round_trip(store.clone()).await;
    prechat_is_stored_once_with_the_conversation(store.clone()).await;
    tickets_and_notes(store.clone()).await;
    support_requests_round_trip(store.clone()).await;
    page_view_tallies_add_up(store.clone()).await;
    page_trail_round_trips_and_expires(store.clone()).await;
    tracking_settings_round_trip(store.clone()).await;
    conversation_facts_of_a_range(store.clone()).await;
    visitor_details_round_trip(store.clone()).await;
    close_answers_queued_appends_then_refuses(store).await;
}
