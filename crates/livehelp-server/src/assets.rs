//! The web front ends, embedded in the binary from `web/` (rust-embed; in debug builds
//! read from disk, so front-end edits need no rebuild): the widget loader `/widget.js`
//! and its files under `/widget/`, the operator console under `/console`, the demo
//! shop page under `/demo`, and the platform's support form under `/support`. Pages get a strict Content-Security-Policy (no inline script
//! or style); every file gets an ETag from its SHA-256 and is revalidated on each use.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use livehelp_protocol::ErrorCode;

use crate::ApiError;

#[derive(rust_embed::Embed)]
#[folder = "../../web/"]
struct Web;

/// CSP for the console and demo pages: only same-origin scripts, styles, connections.
pub const PAGE_CSP: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
     style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `GET /` → the console.
pub async fn root() -> Redirect {
    Redirect::to("/console/")
}

/// `GET /favicon.ico`: browsers ask for it on every page; the demo's icon.
pub async fn favicon(headers: HeaderMap) -> Response {
    serve("demo/favicon.svg", &headers)
}

/// `GET /widget.js`: the loader a tenant's snippet points at.
pub async fn widget_loader(headers: HeaderMap) -> Response {
    serve("widget/widget.js", &headers)
}

/// `GET /widget/{file}`.
pub async fn widget_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("widget/{file}"), &headers)
}

/// `GET /console` → `/console/`.
pub async fn console_redirect() -> Redirect {
    Redirect::permanent("/console/")
}

/// `GET /console/`.
pub async fn console_index(headers: HeaderMap) -> Response {
    serve("console/index.html", &headers)
}

/// `GET /console/{file}`.
pub async fn console_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("console/{file}"), &headers)
}

/// `GET /support`: the platform's technical support form (M5).
pub async fn support_index(headers: HeaderMap) -> Response {
    serve("support/index.html", &headers)
}

/// `GET /support/{file}`: its script and style.
pub async fn support_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("support/{file}"), &headers)
}

/// `GET /demo` → `/demo/`.
pub async fn demo_redirect() -> Redirect {
    Redirect::permanent("/demo/")
}

/// `GET /demo/`.
pub async fn demo_index(headers: HeaderMap) -> Response {
    serve("demo/index.html", &headers)
}

/// `GET /demo/{file}`.
pub async fn demo_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("demo/{file}"), &headers)
}

fn serve(path: &str, request: &HeaderMap) -> Response {
    // Embedded lookups are by exact key, but debug builds read from disk: refuse anything
    // that could climb out of web/.
    if path
        .split(['/', '\\'])
        .any(|part| part == ".." || part.is_empty())
    {
        return ApiError::new(ErrorCode::NotFound, "no such file").into_response();
    }
    let Some(file) = Web::get(path) else {
        return ApiError::new(ErrorCode::NotFound, "no such file").into_response();
    };
    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.contains("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if path.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if path.starts_with("widget/") {
        // Tenant pages load the widget cross-origin, some with cross-origin isolation.
        headers.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
    }
    (StatusCode::OK, headers, file.data.into_owned()).into_response()
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
