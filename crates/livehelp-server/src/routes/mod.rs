//! REST handlers, one module per resource.

pub mod auth;
pub mod conversations;
pub mod health;
pub mod transcripts;
pub mod visitor_sessions;
pub mod widget;
