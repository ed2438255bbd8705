//! Options parsing: any text given as JSON, as TOML, or as an environment map (`KEY=value` lines)
//! is either options or an `Error::Config`, never a panic; options that parsed validate again,
//! and their websocket URL, base URL and `Debug` (which masks passwords) do not panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;
use matterapi::{Error, Options};

fn check(result: Result<Options, Error>) {
    match result {
        Ok(o) => {
            let _ = o.websocket_url();
            let _ = o.base_url();
            let _ = format!("{o:?}");
            // `validated` is idempotent: options that passed once pass again.
            let again = o.clone().validated();
            assert!(
                again.is_ok(),
                "validated() rejected its own output: {again:?}"
            );
        }
        Err(e) => {
            assert!(matches!(e, Error::Config(_)), "not a Config error: {e:?}");
            let _ = e.to_string();
            let _ = format!("{e:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check(Options::from_json(text));
    check(Options::from_toml(text));

    // Environment map: one `KEY=value` per line (a line without `=` is a key with an empty
    // value), with and without the prefix (keys without it are ignored).
    let pairs: Vec<(String, String)> = text
        .lines()
        .map(|line| match line.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (line.to_owned(), String::new()),
        })
        .collect();
    check(Options::from_env_map("", pairs.iter().cloned()));
    check(Options::from_env_map(
        "MATTERAPI_",
        pairs
            .into_iter()
            .map(|(k, v)| (format!("MATTERAPI_{}", k.to_uppercase()), v)),
    ));
});
