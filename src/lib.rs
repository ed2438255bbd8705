//! matterapi: a typed client for the Mattermost REST API v4.

pub mod generated;
pub mod hooks;

pub use generated::{Client, types};
