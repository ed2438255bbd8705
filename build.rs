//! Turns the vendored spec (`openapi/mattermost-v4.json`, written by `cargo xtask regen`) into Rust
//! with progenitor: the builder interface, tags merged (an operation with two tags stays one method),
//! and hooks implemented by hand in `src/hooks.rs`. The output goes to `OUT_DIR` and is included by
//! `src/generated.rs`.

use std::path::PathBuf;

const SPEC: &str = "openapi/mattermost-v4.json";

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    if let Err(e) = generate() {
        // A build script reports failure by panicking; say what failed first.
        panic!("generating the client from {SPEC}: {e}");
    }
}

fn generate() -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(SPEC)?;
    let spec: openapiv3::OpenAPI = serde_json::from_str(&text)?;

    let mut settings = progenitor::GenerationSettings::new();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_inner_type("crate::hooks::Inner".parse()?)
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq");
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator.generate_tokens(&spec)?;
    let file = syn::parse2(tokens)?;
    let code = prettyplease::unparse(&file);

    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("generated.rs");
    std::fs::write(out, code)?;
    Ok(())
}
