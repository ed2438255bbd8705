//! Project tasks: `cargo xtask regen` refreshes the vendored spec; `cargo xtask server` runs the
//! Mattermost test server; `cargo xtask layers` checks the import graph of `src/`; `cargo xtask
//! coverage` checks the client against every route of the test server; `cargo xtask events` checks
//! that every websocket event of the pinned server is typed; `cargo xtask doc-counts` counts the
//! generated items without docs.

mod coverage;
mod docs;
mod events;
mod layers;
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
        Some("coverage") => coverage::run(&coverage::parse_args(&args[1..], root)?),
        Some("server") => server(&root, &args[1..]),
        Some("events") => events::run_cli(&root, &args[1..]),
        Some("doc-counts") => docs::run(&root, &args[1..]),
        Some("layers") => match (args.get(1).map(String::as_str), args.get(2)) {
            (Some("--root"), Some(dir)) => layers::run(std::path::Path::new(dir)),
            (None, _) => layers::run(&root),
            _ => bail!("usage: cargo xtask layers [--root DIR]"),
        },
        _ => bail!(
            "usage:\n  cargo xtask regen [--from PATH | --ref REF [--base-url URL]] [--check] [--root DIR]\n  cargo xtask server start|stop|status|reset|env\n  cargo xtask layers [--root DIR]\n  cargo xtask doc-counts [DIR]\n  cargo xtask events [--server-src DIR] [--root DIR]\n  cargo xtask coverage [--check] [--server-src DIR] [--root DIR]"
        ),
    }
}

/// The workspace root: the parent of this crate's folder.
fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// `cargo xtask server ...`: the Mattermost test server, run by `testserver/server.sh`.
fn server(root: &std::path::Path, args: &[String]) -> Result<()> {
    let status = std::process::Command::new("bash")
        .arg(root.join("testserver/server.sh"))
        .args(args)
        .current_dir(root)
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run testserver/server.sh: {e}"))?;
    if !status.success() {
        bail!("testserver/server.sh {} failed ({status})", args.join(" "));
    }
    Ok(())
}
