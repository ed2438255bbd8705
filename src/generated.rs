//! The client generated from `openapi/mattermost-v4.json` by `build.rs` (progenitor): every typed
//! operation and type, progenitor's output alone (the raw twins of its builders are included by
//! `src/raw.rs`, the blocking twins by `src/blocking.rs`).

#![allow(missing_docs, clippy::all, unused_imports, dead_code)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));
