//! REST handlers, one module per resource.

pub mod auth;
pub mod health;
pub mod transcripts;
pub mod visitor_sessions;
