//! The client generated from `openapi/mattermost-v4.json` by `build.rs` (progenitor): every typed
//! operation and type. This is the one place generated code enters the crate.

#![allow(missing_docs, clippy::all, unused_imports, dead_code)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));
include!(concat!(env!("OUT_DIR"), "/raw_sends.rs"));
