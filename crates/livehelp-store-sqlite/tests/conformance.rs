//! Runs the backend-neutral conformance suite (`livehelp_store::testing`) against
//! `SqliteStore`: every check on its own fresh database file in a temp dir, and then all
//! of them together on one shared database.

use std::sync::Arc;

use livehelp_store::testing;
use livehelp_store::{ConversationStore, Store};
use livehelp_store_sqlite::{SqliteOptions, SqliteStore};
use tempfile::TempDir;

/// A new store on a new file; keep the `TempDir` alive as long as the store.
async fn fresh_store() -> (TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = SqliteStore::open(
        &dir.path().join("livehelp.sqlite"),
        SqliteOptions::default(),
    )
    .await
    .expect("the store opens");
    (dir, Arc::new(store))
}

/// Runs one suite check on a fresh store, then closes it.
async fn check<F, Fut>(suite_check: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (_dir, store) = fresh_store().await;
    suite_check(store.clone()).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_checks_share_one_store() {
    let (_dir, store) = fresh_store().await;
    testing::run_all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_assigns_gapless_seq() {
    check(testing::append_assigns_gapless_seq).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn append_is_idempotent() {
    check(testing::append_is_idempotent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_msg_id_reuse_is_refused() {
    check(testing::client_msg_id_reuse_is_refused).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_gives_one_conversation_per_visitor() {
    check(testing::open_gives_one_conversation_per_visitor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_race_has_one_winner() {
    check(testing::accept_race_has_one_winner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ended_conversation_refuses_writes() {
    check(testing::ended_conversation_refuses_writes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_writes_need_the_owner() {
    check(testing::operator_writes_need_the_owner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visitors_write_only_their_own_conversation() {
    check(testing::visitors_write_only_their_own_conversation).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenants_are_isolated() {
    check(testing::tenants_are_isolated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_messages_pages() {
    check(testing::list_messages_pages).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_and_operator_lists() {
    check(testing::queue_and_operator_lists).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn entities_round_trip() {
    check(testing::entities_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversation_and_messages_round_trip() {
    check(testing::conversation_and_messages_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn message_text_round_trips_byte_for_byte() {
    check(testing::message_text_round_trips_byte_for_byte).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn entry_lookups_and_conflicts() {
    check(testing::entry_lookups_and_conflicts).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_operator_sessions_are_not_returned() {
    check(testing::expired_operator_sessions_are_not_returned).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_pages_newest_first() {
    check(testing::list_conversations_pages_newest_first).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_breaks_ties_by_id() {
    check(testing::list_conversations_breaks_ties_by_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_filters() {
    check(testing::list_conversations_filters).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversations_are_counted_per_visitor() {
    check(testing::conversations_are_counted_per_visitor).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_status_updates() {
    check(testing::operator_status_updates).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visitor_session_page_and_touch() {
    check(testing::visitor_session_page_and_touch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn latest_visitor_session() {
    check(testing::latest_visitor_session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn site_updates_keep_key_and_id() {
    check(testing::site_updates_keep_key_and_id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_updates_replace_account_fields() {
    check(testing::operator_updates_replace_account_fields).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_failures_lock_the_account() {
    check(testing::login_failures_lock_the_account).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_login_failures_lock_once() {
    check(testing::concurrent_login_failures_lock_once).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_sessions_list_and_revoke() {
    check(testing::operator_sessions_list_and_revoke).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_resets_are_used_once() {
    check(testing::password_resets_are_used_once).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_password_reset_has_one_winner() {
    check(testing::concurrent_password_reset_has_one_winner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenants_list_and_status() {
    check(testing::tenants_list_and_status).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn platform_admins_by_email() {
    check(testing::platform_admins_by_email).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_log_pages_newest_first() {
    check(testing::audit_log_pages_newest_first).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn canned_responses_by_scope() {
    check(testing::canned_responses_by_scope).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notes_round_trip_in_order() {
    check(testing::notes_round_trip_in_order).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tags_have_a_limit() {
    check(testing::tags_have_a_limit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_conversations_filters_by_tag() {
    check(testing::list_conversations_filters_by_tag).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn close_answers_queued_appends_then_refuses() {
    check(testing::close_answers_queued_appends_then_refuses).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn departments_crud() {
    check(testing::departments_crud).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_settings_round_trip() {
    check(testing::routing_settings_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn site_default_department_round_trip() {
    check(testing::site_default_department_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_max_chats_round_trip() {
    check(testing::operator_max_chats_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accept_and_assign_respect_the_limit() {
    check(testing::accept_and_assign_respect_the_limit).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limit_holds_under_racing_assignments() {
    check(testing::limit_holds_under_racing_assignments).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfer_rules() {
    check(testing::transfer_rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requeue_rules() {
    check(testing::requeue_rules).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn join_and_participant_messages() {
    check(testing::join_and_participant_messages).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queue_positions_per_department() {
    check(testing::queue_positions_per_department).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn recent_assignments_by_department_and_time() {
    check(testing::recent_assignments_by_department_and_time).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_open_conversations_oldest_first() {
    check(testing::list_open_conversations_oldest_first).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unanswered_conversations() {
    check(testing::unanswered_conversations).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_effects_are_idempotent() {
    check(testing::routing_effects_are_idempotent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_is_tenant_isolated() {
    check(testing::routing_is_tenant_isolated).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn survey_versions_are_numbered_per_scope() {
    check(testing::survey_versions_are_numbered_per_scope).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn survey_response_once_per_conversation() {
    check(testing::survey_response_once_per_conversation).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn survey_refusals_are_counted_per_site_and_day() {
    check(testing::survey_refusals_are_counted_per_site_and_day).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn platform_questions_and_answers() {
    check(testing::platform_questions_and_answers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn site_forms_round_trip() {
    check(testing::site_forms_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prechat_is_stored_once_with_the_conversation() {
    check(testing::prechat_is_stored_once_with_the_conversation).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tickets_and_notes() {
    check(testing::tickets_and_notes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn support_requests_round_trip() {
    check(testing::support_requests_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn page_view_tallies_add_up() {
    check(testing::page_view_tallies_add_up).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn page_trail_round_trips_and_expires() {
    check(testing::page_trail_round_trips_and_expires).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tracking_settings_round_trip() {
    check(testing::tracking_settings_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conversation_facts_of_a_range() {
    check(testing::conversation_facts_of_a_range).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn visitor_details_round_trip() {
    check(testing::visitor_details_round_trip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_archive_is_whole_and_clashing_imports_change_nothing() {
    check(testing::tenant_archive_is_whole_and_clashing_imports_change_nothing).await;
}
