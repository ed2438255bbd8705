//! The seam between the generated client and the hand-written layer: `ClientHooks` for the generated
//! `Client`, where auth, tracing and raw capture happen.

use progenitor_client::{ClientHooks, OperationInfo};

use crate::generated::Client;

/// State the hand-written layer keeps inside the generated client.
#[derive(Clone, Debug, Default)]
pub struct Inner {}

impl ClientHooks<Inner> for Client {}
