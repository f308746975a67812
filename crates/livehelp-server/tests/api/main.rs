//! HTTP and WebSocket integration tests: each starts a real server on a free port (SQLite
//! in a temp dir, in-process bus) and talks to it with a real WebSocket client.

mod accounts;
mod cases;
mod client;
mod conversation;
mod details;
mod export;
mod frames;
mod hardening;
mod helpers;
mod isolation;
mod prechat;
mod reports;
mod rest;
mod routing;
mod surveys;
mod tenancy;
mod tickets;
mod tls;
mod tools;
mod visitors;
mod web;
