//! livehelp's wire protocol, version 1: the WebSocket frames both clients send and
//! receive ([`ClientFrame`], [`ServerFrame`]), the REST bodies, and the table of stable
//! error codes ([`ErrorCode`]). This crate alone decides what goes on the wire;
//! `docs/protocol.md` documents every type here, and a tidy test keeps the two in step.
//!
//! Frames are JSON text messages with a `type` field in `snake_case`.

pub mod error;
pub mod forms;
pub mod frames;
pub mod reports;
pub mod rest;
pub mod survey;
pub mod tools;
pub mod visitors;

pub use error::ErrorCode;
pub use frames::{
    AuthorDto, ClientFrame, ConversationDto, FrameError, MessageDto, ParticipantDto, ServerFrame,
};

/// The protocol version this server speaks, sent in `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// Frames larger than this (bytes of JSON text) are refused with a `frame_too_large` error
/// and the connection stays open. It bounds one message at [`MAX_TEXT_CHARS`] characters
/// even when a client escapes every character as `\uXXXX\uXXXX` (12 bytes per char).
pub const SOFT_FRAME_LIMIT: usize = 128 * 1024;

/// Frames larger than this close the socket with close code 1008 (policy violation).
pub const HARD_FRAME_LIMIT: usize = 256 * 1024;

/// Mirror of the domain's message length limit, in characters, for documentation.
pub const MAX_TEXT_CHARS: usize = 10_000;
