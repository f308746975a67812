//! `/healthz` (the process answers), `/readyz` (it takes traffic: not shutting down) and
//! `/metrics` (Prometheus text format).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use livehelp_protocol::ErrorCode;

use crate::{ApiError, AppState};

/// Liveness: 200 while the process runs.
pub async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: 200 while serving, 503 once shutdown has begun.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if *state.shutdown.borrow() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else {
        (StatusCode::OK, "ready")
    }
}

/// Metrics in the Prometheus text exposition format.
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &state.metrics.registry)
        .map_err(|_| ApiError::new(ErrorCode::Internal, "metrics encoding failed"))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    ))
}

/// Any unknown path: a JSON 404.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such route")
}
