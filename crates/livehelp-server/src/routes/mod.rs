//! REST handlers, one module per resource.

pub mod audit;
pub mod auth;
pub mod conversations;
pub mod forms;
pub mod health;
pub mod operators;
pub mod sites;
pub mod tickets;
pub mod transcripts;
pub mod visitor_sessions;
pub mod widget;
