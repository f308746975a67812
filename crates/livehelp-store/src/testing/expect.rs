//! Assertion helpers of the conformance suite: unwrap a store result or fail with the
//! error, expect a particular `StoreError`, and bound every wait with a timeout so a store
//! that never answers fails the test instead of hanging it.

use std::future::Future;
use std::time::Duration;

use livehelp_domain::Conversation;
use tokio::task::JoinSet;

use crate::{Appended, StoreError, StoreResult};

/// The value, or a panic showing the error.
#[track_caller]
pub(super) fn ok<T>(result: StoreResult<T>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("unexpected store error: {error:?}"),
    }
}

/// Fails unless `result` is `NotFound`.
#[track_caller]
pub(super) fn not_found<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "expected NotFound, got {result:?}"
    );
}

/// Fails unless `result` is a `Conflict` on `expected`.
#[track_caller]
pub(super) fn conflict(result: StoreResult<()>, expected: &str) {
    match result {
        Err(StoreError::Conflict { constraint }) => assert_eq!(constraint, expected),
        other => panic!("expected a conflict on {expected}, got {other:?}"),
    }
}

/// The current conversation carried by a `WrongState`; fails on anything else.
#[track_caller]
pub(super) fn wrong_state(result: StoreResult<Appended>) -> Conversation {
    match result {
        Err(StoreError::WrongState { current }) => *current,
        other => panic!("expected WrongState, got {other:?}"),
    }
}

/// Awaits `future`, failing the test instead of hanging if a store never answers.
pub(super) async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(60), future).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within 60 s"),
    }
}

/// The outputs of every task, failing on a panic in any of them.
pub(super) async fn join_all<T: 'static>(mut tasks: JoinSet<T>) -> Vec<T> {
    let mut outputs = Vec::with_capacity(tasks.len());
    within("the spawned appends", async {
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(output) => outputs.push(output),
                Err(error) => panic!("a spawned task failed: {error}"),
            }
        }
    })
    .await;
    outputs
}
