//! Conformance checks of login security: the failed-login counter and lock-out
//! (`record_login_failure`, `reset_login_failures`), an operator's session list and
//! "log out everywhere" (`list_operator_sessions`, `delete_operator_sessions`), and
//! one-time password-reset links (`insert_password_reset`, `consume_password_reset`),
//! including the races that matter: parallel wrong passwords cannot slip past the limit,
//! and a reset link used twice at once works once.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use livehelp_domain::{Operator, OperatorId, OperatorSession, PasswordReset, SessionId, TenantId};
use tokio::task::JoinSet;

use super::expect::{join_all, not_found, ok};
use super::fixtures::{Fixture, now, random_csrf_token, random_token};
use crate::{Store, StoreError};

/// Fifteen minutes, the lock the checks ask for.
const LOCK_FOR: time::Duration = time::Duration::minutes(15);

/// Failures count up; the one that reaches `lock_after` sets `locked_until = now +
/// lock_for` and resets the count; later failures count again without moving the lock
/// until the limit is reached again. `reset_login_failures` clears both. Every call
/// returns the operator as stored and touches nothing else. Unknown and foreign operators
/// are `NotFound` and unchanged.
pub async fn login_failures_lock_the_account(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let operator = fixture.operator.id;
    let start = now();
    let at = |seconds: u64| start + Duration::from_secs(seconds);
    let fail = |when| {
        let store = store.clone();
        async move {
            ok(store
                .record_login_failure(tenant, operator, when, 3, LOCK_FOR)
                .await)
        }
    };
    let with = |failed_logins, locked_until| Operator {
        failed_logins,
        locked_until,
        ..fixture.operator.clone()
    };

    assert_eq!(fail(at(0)).await, with(1, None));
    assert_eq!(fail(at(1)).await, with(2, None));
    let first_lock = Some(at(2) + LOCK_FOR);
    assert_eq!(fail(at(2)).await, with(0, first_lock));
    assert_eq!(
        ok(store.fetch_operator(tenant, operator).await),
        with(0, first_lock)
    );
    // Counting again; the lock stays until the limit is reached again, then moves.
    assert_eq!(fail(at(3)).await, with(1, first_lock));
    assert_eq!(fail(at(4)).await, with(2, first_lock));
    let second_lock = Some(at(5) + LOCK_FOR);
    assert_eq!(fail(at(5)).await, with(0, second_lock));
    assert_eq!(fail(at(6)).await, with(1, second_lock));
    assert_eq!(
        ok(store.fetch_operator_by_email(&fixture.operator.email).await),
        with(1, second_lock)
    );

    ok(store.reset_login_failures(tenant, operator).await);
    assert_eq!(
        ok(store.fetch_operator(tenant, operator).await),
        fixture.operator
    );
    // Resetting a clean account is fine.
    ok(store.reset_login_failures(tenant, operator).await);

    // A limit of one locks at the first failure.
    let once = ok(store
        .record_login_failure(tenant, operator, at(7), 1, LOCK_FOR)
        .await);
    assert_eq!(once, with(0, Some(at(7) + LOCK_FOR)));
    ok(store.reset_login_failures(tenant, operator).await);

    let theirs = other.operator.id;
    for (tenant, someone) in [
        (tenant, OperatorId::new()),
        (tenant, theirs),
        (TenantId::new(), operator),
    ] {
        not_found(
            store
                .record_login_failure(tenant, someone, at(8), 1, LOCK_FOR)
                .await,
        );
        not_found(store.reset_login_failures(tenant, someone).await);
    }
    // Their locked operator stays locked when we "reset" it.
    let their_lock = ok(store
        .record_login_failure(other.tenant.id, theirs, at(9), 1, LOCK_FOR)
        .await);
    not_found(store.reset_login_failures(tenant, theirs).await);
    assert_eq!(
        ok(store.fetch_operator(other.tenant.id, theirs).await),
        their_lock
    );
    assert_eq!(
        ok(store.fetch_operator(tenant, operator).await),
        fixture.operator
    );
    assert_eq!(
        ok(store
            .fetch_operator(tenant, fixture.other_operator.id)
            .await),
        fixture.other_operator
    );
}

/// `lock_after` wrong passwords at once lock the account exactly once: the answers carry
/// the counts 1 to `lock_after - 1` without a lock and one carries the lock with the count
/// reset, as if they had come one after another.
pub async fn concurrent_login_failures_lock_once(store: Arc<dyn Store>) {
    const LOCK_AFTER: u32 = 5;
    let fixture = Fixture::new(&*store).await;
    let (tenant, operator) = (fixture.tenant.id, fixture.operator.id);
    let when = now();
    let mut tasks = JoinSet::new();
    for _ in 0..LOCK_AFTER {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .record_login_failure(tenant, operator, when, LOCK_AFTER, LOCK_FOR)
                .await
        });
    }
    let mut answers: Vec<Operator> = join_all(tasks).await.into_iter().map(ok).collect();
    answers.sort_by_key(|answer| answer.failed_logins);
    let lock = Some(when + LOCK_FOR);
    let expected: Vec<Operator> = (0..LOCK_AFTER)
        .map(|count| Operator {
            failed_logins: count,
            locked_until: if count == 0 { lock } else { None },
            ..fixture.operator.clone()
        })
        .collect();
    assert_eq!(answers, expected);
    assert_eq!(
        ok(store.fetch_operator(tenant, operator).await),
        expected[0]
    );
}

/// `list_operator_sessions` gives the operator's unexpired sessions (valid strictly
/// before `expires_at`), newest first with ties broken by the greater id, every field as
/// written; `delete_operator_sessions` removes every session of that operator, expired
/// ones included, and says how many. Neither reaches another operator or tenant.
pub async fn operator_sessions_list_and_revoke(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let operator = fixture.operator.id;
    let current = now();
    let minutes = |minutes: u64| Duration::from_secs(minutes * 60);

    let expired = fixture
        .session_of(
            &*store,
            operator,
            current - minutes(120),
            current - minutes(1),
        )
        .await;
    let ends_now = fixture
        .session_of(&*store, operator, current - minutes(90), current)
        .await;
    let older = fixture
        .session_of(
            &*store,
            operator,
            current - minutes(60),
            current + minutes(60),
        )
        .await;
    // Same created_at as `older`, greater id.
    let tied = fixture
        .session_of(&*store, operator, older.created_at, current + minutes(60))
        .await;
    let newer = fixture
        .session_of(
            &*store,
            operator,
            current - minutes(1),
            current + minutes(120),
        )
        .await;
    let newest = OperatorSession {
        id: SessionId::new(),
        tenant_id: tenant,
        operator_id: operator,
        token_hash: random_token(),
        csrf_token: random_csrf_token(),
        ip: Some("198.51.100.23".parse::<IpAddr>().expect("an address")),
        user_agent: Some("Mozilla/5.0 (Android 15) Chrome/139.0 «📱»".to_owned()),
        created_at: current,
        expires_at: current + minutes(480),
    };
    ok(store.insert_operator_session(tenant, &newest).await);
    let colleague = fixture
        .session_of(
            &*store,
            fixture.other_operator.id,
            current,
            current + minutes(60),
        )
        .await;
    let theirs = other
        .session_of(&*store, other.operator.id, current, current + minutes(60))
        .await;

    let listed = ok(store
        .list_operator_sessions(tenant, operator, current)
        .await);
    assert_eq!(
        listed,
        vec![newest.clone(), newer.clone(), tied.clone(), older.clone()]
    );
    // An hour and a half earlier, `ends_now` was still valid but `newest` not yet made;
    // the list does not filter by creation, only by expiry.
    let earlier = ok(store
        .list_operator_sessions(tenant, operator, current - minutes(90))
        .await);
    assert_eq!(
        earlier,
        vec![
            newest.clone(),
            newer.clone(),
            tied.clone(),
            older.clone(),
            ends_now.clone(),
            expired.clone()
        ]
    );
    assert_eq!(
        ok(store
            .list_operator_sessions(tenant, fixture.other_operator.id, current)
            .await),
        vec![colleague.clone()]
    );
    assert!(
        ok(store
            .list_operator_sessions(tenant, other.operator.id, current)
            .await)
        .is_empty()
    );
    assert!(
        ok(store
            .list_operator_sessions(TenantId::new(), operator, current)
            .await)
        .is_empty()
    );
    assert!(
        ok(store
            .list_operator_sessions(tenant, OperatorId::new(), current)
            .await)
        .is_empty()
    );

    assert_eq!(
        ok(store
            .delete_operator_sessions(tenant, other.operator.id)
            .await),
        0
    );
    assert_eq!(
        ok(store
            .delete_operator_sessions(TenantId::new(), operator)
            .await),
        0
    );
    assert_eq!(
        ok(store.delete_operator_sessions(tenant, operator).await),
        6
    );
    assert!(
        ok(store
            .list_operator_sessions(tenant, operator, current - minutes(1_000))
            .await)
        .is_empty()
    );
    for session in [&expired, &ends_now, &older, &tied, &newer, &newest] {
        not_found(
            store
                .fetch_operator_session_by_token(&session.token_hash, session.created_at)
                .await,
        );
    }
    assert_eq!(
        ok(store.delete_operator_sessions(tenant, operator).await),
        0
    );
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&colleague.token_hash, current)
            .await),
        colleague
    );
    assert_eq!(
        ok(store
            .fetch_operator_session_by_token(&theirs.token_hash, current)
            .await),
        theirs
    );
}

/// A reset link works once, strictly before `expires_at`: the first use returns it, a
/// second use, an expired link and an unknown token are `NotFound`. A link can only be
/// issued for the tenant's own operator, and the entry lookup finds any tenant's link.
pub async fn password_resets_are_used_once(store: Arc<dyn Store>) {
    let fixture = Fixture::new(&*store).await;
    let other = Fixture::new(&*store).await;
    let tenant = fixture.tenant.id;
    let current = now();
    let reset = PasswordReset {
        token_hash: random_token(),
        tenant_id: tenant,
        operator_id: fixture.operator.id,
        created_at: current,
        expires_at: current + Duration::from_secs(3_600),
    };
    ok(store.insert_password_reset(tenant, &reset).await);
    assert_eq!(
        ok(store
            .consume_password_reset(&reset.token_hash, current)
            .await),
        reset
    );
    not_found(
        store
            .consume_password_reset(&reset.token_hash, current)
            .await,
    );
    not_found(
        store
            .consume_password_reset(&reset.token_hash, current + Duration::from_secs(1))
            .await,
    );

    let expired = PasswordReset {
        token_hash: random_token(),
        created_at: current - Duration::from_secs(7_200),
        expires_at: current - Duration::from_secs(3_600),
        ..reset.clone()
    };
    ok(store.insert_password_reset(tenant, &expired).await);
    not_found(
        store
            .consume_password_reset(&expired.token_hash, current)
            .await,
    );
    // Valid strictly before expires_at; the refused use at expires_at used nothing up.
    let edge = PasswordReset {
        token_hash: random_token(),
        operator_id: fixture.other_operator.id,
        expires_at: current + Duration::from_secs(600),
        ..reset.clone()
    };
    ok(store.insert_password_reset(tenant, &edge).await);
    not_found(
        store
            .consume_password_reset(&edge.token_hash, edge.expires_at)
            .await,
    );
    let just_before = edge.expires_at - Duration::from_micros(1);
    assert_eq!(
        ok(store
            .consume_password_reset(&edge.token_hash, just_before)
            .await),
        edge
    );
    not_found(store.consume_password_reset(&random_token(), current).await);

    // Our tenant cannot issue a link for their operator, however the entity is dressed.
    let stolen = PasswordReset {
        token_hash: random_token(),
        operator_id: other.operator.id,
        ..reset.clone()
    };
    not_found(store.insert_password_reset(tenant, &stolen).await);
    not_found(
        store
            .consume_password_reset(&stolen.token_hash, current)
            .await,
    );
    let theirs = PasswordReset {
        token_hash: random_token(),
        tenant_id: other.tenant.id,
        ..stolen.clone()
    };
    assert!(
        store.insert_password_reset(tenant, &theirs).await.is_err(),
        "a reset of another tenant is refused under ours"
    );
    not_found(
        store
            .consume_password_reset(&theirs.token_hash, current)
            .await,
    );
    let unknown_operator = PasswordReset {
        token_hash: random_token(),
        operator_id: OperatorId::new(),
        ..reset.clone()
    };
    not_found(store.insert_password_reset(tenant, &unknown_operator).await);
    // Issued by their tenant, it works, and says whose it is.
    ok(store.insert_password_reset(other.tenant.id, &theirs).await);
    assert_eq!(
        ok(store
            .consume_password_reset(&theirs.token_hash, current)
            .await),
        theirs
    );
}

/// Several uses of one reset link at once: exactly one gets the reset, every other one
/// `NotFound`.
pub async fn concurrent_password_reset_has_one_winner(store: Arc<dyn Store>) {
    const ATTEMPTS: usize = 8;
    let fixture = Fixture::new(&*store).await;
    for _ in 0..3 {
        let current = now();
        let reset = PasswordReset {
            token_hash: random_token(),
            tenant_id: fixture.tenant.id,
            operator_id: fixture.operator.id,
            created_at: current,
            expires_at: current + Duration::from_secs(3_600),
        };
        ok(store.insert_password_reset(fixture.tenant.id, &reset).await);
        let mut tasks = JoinSet::new();
        for _ in 0..ATTEMPTS {
            let store = store.clone();
            let token_hash = reset.token_hash;
            tasks.spawn(async move { store.consume_password_reset(&token_hash, current).await });
        }
        let mut winners = Vec::new();
        for outcome in join_all(tasks).await {
            match outcome {
                Ok(won) => winners.push(won),
                Err(StoreError::NotFound) => {}
                Err(error) => panic!("a concurrent use failed: {error:?}"),
            }
        }
        assert_eq!(winners, vec![reset.clone()]);
        not_found(
            store
                .consume_password_reset(&reset.token_hash, current)
                .await,
        );
    }
}
