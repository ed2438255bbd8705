//! Project tasks: `cargo xtask regen` refreshes the vendored spec; `cargo xtask server` runs the
//! Mattermost test server.

mod regen;

use std::path::PathBuf;

use anyhow::{Result, bail};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    match args.first().map(String::as_str) {
        Some("regen") => regen::run(&regen::parse_args(&args[1..], root)?),
        _ => bail!("usage: cargo xtask regen [--from PATH | --ref REF [--base-url URL]] [--check]"),
    }
}

/// The workspace root: the parent of this crate's folder.
fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}
