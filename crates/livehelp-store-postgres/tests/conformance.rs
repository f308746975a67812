//! Runs the backend-neutral conformance suite (`livehelp_store::testing`) against
//! `PostgresStore`: every check on a fresh schema of its own, then all of them together on
//! one shared schema. Needs `LIVEHELP_TEST_POSTGRES_URL` (see `common/mod.rs`); without it
//! each test prints a note and passes, and with it an unreachable server fails them.

mod common;

use std::sync::Arc;

use common::TestSchema;
use livehelp_store::testing;
use livehelp_store::{ConversationStore, Store};

/// Runs one suite check on a fresh store in a fresh schema, then closes it.
async fn check<F, Fut>(name: &str, suite_check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(schema) = TestSchema::create(name).await else {
        return;
    };
    let store = schema.store().await;
    suite_check(store.clone()).await;
    store.close().await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_checks_share_one_store() {
    let Some(schema) = TestSchema::create("all_checks_share_one_store").await else {
        return;
    };
    testing::run_all(schema.store().await).await;
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_assigns_gapless_seq() {
    check(
        "append_assigns_gapless_seq",
        testing::append_assigns_gapless_seq,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_is_idempotent() {
    check("append_is_idempotent", testing::append_is_idempotent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_msg_id_reuse_is_refused() {
    check(
        "client_msg_id_reuse_is_refused",
        testing::client_msg_id_reuse_is_refused,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_gives_one_conversation_per_visitor() {
    check(
        "open_gives_one_conversation_per_visitor",
        testing::open_gives_one_conversation_per_visitor,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_race_has_one_winner() {
    check(
        "accept_race_has_one_winner",
        testing::accept_race_has_one_winner,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ended_conversation_refuses_writes() {
    check(
        "ended_conversation_refuses_writes",
        testing::ended_conversation_refuses_writes,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_writes_need_the_owner() {
    check(
        "operator_writes_need_the_owner",
        testing::operator_writes_need_the_owner,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visitors_write_only_their_own_conversation() {
    check(
        "visitors_write_only_their_own_conversation",
        testing::visitors_write_only_their_own_conversation,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenants_are_isolated() {
    check("tenants_are_isolated", testing::tenants_are_isolated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_messages_pages() {
    check("list_messages_pages", testing::list_messages_pages).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_and_operator_lists() {
    check(
        "queue_and_operator_lists",
        testing::queue_and_operator_lists,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_pages_newest_first() {
    check(
        "list_conversations_pages_newest_first",
        testing::list_conversations_pages_newest_first,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_breaks_ties_by_id() {
    check(
        "list_conversations_breaks_ties_by_id",
        testing::list_conversations_breaks_ties_by_id,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_filters() {
    check(
        "list_conversations_filters",
        testing::list_conversations_filters,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversations_are_counted_per_visitor() {
    check(
        "conversations_are_counted_per_visitor",
        testing::conversations_are_counted_per_visitor,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn entities_round_trip() {
    check("entities_round_trip", testing::entities_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversation_and_messages_round_trip() {
    check(
        "conversation_and_messages_round_trip",
        testing::conversation_and_messages_round_trip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn message_text_round_trips_byte_for_byte() {
    check(
        "message_text_round_trips_byte_for_byte",
        testing::message_text_round_trips_byte_for_byte,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn entry_lookups_and_conflicts() {
    check(
        "entry_lookups_and_conflicts",
        testing::entry_lookups_and_conflicts,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_operator_sessions_are_not_returned() {
    check(
        "expired_operator_sessions_are_not_returned",
        testing::expired_operator_sessions_are_not_returned,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_status_updates() {
    check("operator_status_updates", testing::operator_status_updates).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visitor_session_page_and_touch() {
    check(
        "visitor_session_page_and_touch",
        testing::visitor_session_page_and_touch,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn latest_visitor_session() {
    check("latest_visitor_session", testing::latest_visitor_session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn site_updates_keep_key_and_id() {
    check(
        "site_updates_keep_key_and_id",
        testing::site_updates_keep_key_and_id,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_updates_replace_account_fields() {
    check(
        "operator_updates_replace_account_fields",
        testing::operator_updates_replace_account_fields,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_failures_lock_the_account() {
    check(
        "login_failures_lock_the_account",
        testing::login_failures_lock_the_account,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_login_failures_lock_once() {
    check(
        "concurrent_login_failures_lock_once",
        testing::concurrent_login_failures_lock_once,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_sessions_list_and_revoke() {
    check(
        "operator_sessions_list_and_revoke",
        testing::operator_sessions_list_and_revoke,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_resets_are_used_once() {
    check(
        "password_resets_are_used_once",
        testing::password_resets_are_used_once,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_password_reset_has_one_winner() {
    check(
        "concurrent_password_reset_has_one_winner",
        testing::concurrent_password_reset_has_one_winner,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenants_list_and_status() {
    check("tenants_list_and_status", testing::tenants_list_and_status).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn platform_admins_by_email() {
    check(
        "platform_admins_by_email",
        testing::platform_admins_by_email,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_log_pages_newest_first() {
    check(
        "audit_log_pages_newest_first",
        testing::audit_log_pages_newest_first,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn canned_responses_by_scope() {
    check(
        "canned_responses_by_scope",
        testing::canned_responses_by_scope,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notes_round_trip_in_order() {
    check(
        "notes_round_trip_in_order",
        testing::notes_round_trip_in_order,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tags_have_a_limit() {
    check("tags_have_a_limit", testing::tags_have_a_limit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_filters_by_tag() {
    check(
        "list_conversations_filters_by_tag",
        testing::list_conversations_filters_by_tag,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn close_answers_queued_appends_then_refuses() {
    check(
        "close_answers_queued_appends_then_refuses",
        testing::close_answers_queued_appends_then_refuses,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn departments_crud() {
    check("departments_crud", testing::departments_crud).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_settings_round_trip() {
    check(
        "routing_settings_round_trip",
        testing::routing_settings_round_trip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn site_default_department_round_trip() {
    check(
        "site_default_department_round_trip",
        testing::site_default_department_round_trip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_max_chats_round_trip() {
    check(
        "operator_max_chats_round_trip",
        testing::operator_max_chats_round_trip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_and_assign_respect_the_limit() {
    check(
        "accept_and_assign_respect_the_limit",
        testing::accept_and_assign_respect_the_limit,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limit_holds_under_racing_assignments() {
    check(
        "limit_holds_under_racing_assignments",
        testing::limit_holds_under_racing_assignments,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfer_rules() {
    check("transfer_rules", testing::transfer_rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requeue_rules() {
    check("requeue_rules", testing::requeue_rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn join_and_participant_messages() {
    check(
        "join_and_participant_messages",
        testing::join_and_participant_messages,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_positions_per_department() {
    check(
        "queue_positions_per_department",
        testing::queue_positions_per_department,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recent_assignments_by_department_and_time() {
    check(
        "recent_assignments_by_department_and_time",
        testing::recent_assignments_by_department_and_time,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_open_conversations_oldest_first() {
    check(
        "list_open_conversations_oldest_first",
        testing::list_open_conversations_oldest_first,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unanswered_conversations() {
    check(
        "unanswered_conversations",
        testing::unanswered_conversations,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_effects_are_idempotent() {
    check(
        "routing_effects_are_idempotent",
        testing::routing_effects_are_idempotent,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_is_tenant_isolated() {
    check(
        "routing_is_tenant_isolated",
        testing::routing_is_tenant_isolated,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn survey_versions_are_numbered_per_scope() {
    check(
        "survey_versions_are_numbered_per_scope",
        testing::survey_versions_are_numbered_per_scope,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn survey_response_once_per_conversation() {
    check(
        "survey_response_once_per_conversation",
        testing::survey_response_once_per_conversation,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn survey_refusals_are_counted_per_site_and_day() {
    check(
        "survey_refusals_are_counted_per_site_and_day",
        testing::survey_refusals_are_counted_per_site_and_day,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn platform_questions_and_answers() {
    check(
        "platform_questions_and_answers",
        testing::platform_questions_and_answers,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn site_forms_round_trip() {
    check("site_forms_round_trip", testing::site_forms_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prechat_is_stored_once_with_the_conversation() {
    check(
        "prechat_is_stored_once_with_the_conversation",
        testing::prechat_is_stored_once_with_the_conversation,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tickets_and_notes() {
    check("tickets_and_notes", testing::tickets_and_notes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn support_requests_round_trip() {
    check(
        "support_requests_round_trip",
        testing::support_requests_round_trip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn page_view_tallies_add_up() {
    check(
        "page_view_tallies_add_up",
        testing::page_view_tallies_add_up,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn page_trail_round_trips_and_expires() {
    check(
        "page_trail_round_trips_and_expires",
        testing::page_trail_round_trips_and_expires,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tracking_settings_round_trip() {
    check(
        "tracking_settings_round_trip",
        testing::tracking_settings_round_trip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversation_facts_of_a_range() {
    check(
        "conversation_facts_of_a_range",
        testing::conversation_facts_of_a_range,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visitor_details_round_trip() {
    check(
        "visitor_details_round_trip",
        testing::visitor_details_round_trip,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_archive_is_whole_and_clashing_imports_change_nothing() {
    check(
        "tenant_archive_is_whole_and_clashing_imports_change_nothing",
        testing::tenant_archive_is_whole_and_clashing_imports_change_nothing,
    )
    .await;
}
