//! REST handlers, one module per resource.

pub mod audit;
pub mod auth;
pub mod canned_responses;
pub mod conversation_tools;
pub mod conversations;
pub mod export;
pub mod forms;
pub mod health;
pub mod operators;
pub mod page_views;
pub mod reports;
pub mod routing;
pub mod sites;
pub mod surveys;
pub mod tickets;
pub mod transcripts;
pub mod visitor_details;
pub mod visitor_sessions;
pub mod widget;
