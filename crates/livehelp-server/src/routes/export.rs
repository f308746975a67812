//! `GET /api/v1/tenant/export`: a tenant admin downloads their whole tenant as a
//! livehelp archive (M17; the same file as `livehelp tenant export`, importable on
//! another deployment with `livehelp tenant import`; `docs/archive-format.md`). Admins
//! only; the export is audited.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use livehelp_archive::ArchiveWriter;
use livehelp_protocol::ErrorCode;
use livehelp_store::archive::ArchiveScope;
use time::OffsetDateTime;

use crate::extract::AdminSession;
use crate::{ApiError, AppState};

fn internal(error: impl std::fmt::Display) -> ApiError {
    tracing::error!(error = %error, "tenant export failed");
    ApiError::new(ErrorCode::Internal, "the export could not be written")
}

/// The archive, as `application/zstd` with a dated file name.
pub async fn download(
    State(state): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Response, ApiError> {
    let now = OffsetDateTime::now_utc();
    let work = tempfile::tempdir().map_err(internal)?;
    let file = work.path().join("export.tar.zst");
    let mut writer = ArchiveWriter::create(&file).map_err(internal)?;
    let tenant = state
        .app
        .export_own_tenant(&session.operator, writer.sink(), now)
        .await?;
    writer
        .finish(ArchiveScope::Tenant(tenant))
        .map_err(internal)?;
    let bytes = tokio::fs::read(&file).await.map_err(internal)?;
    let name = format!(
        "livehelp-tenant-{tenant}-{:04}{:02}{:02}.tar.zst",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    Response::builder()
        .header(header::CONTENT_TYPE, "application/zstd")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(bytes))
        .map_err(internal)
}
