//! Where the upstream spec comes from: a fragments folder, one assembled file, or a git ref of
//! upstream downloaded over HTTP. Fragments are concatenated in the order of upstream's `api/Makefile`,
//! exactly as upstream builds its spec.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

/// The upstream repository the spec comes from.
pub const UPSTREAM_REPO: &str = "mattermost/mattermost";
/// Where `--ref` downloads from unless `--base-url` says otherwise: `{base}/{ref}/api/...`.
pub const DEFAULT_BASE_URL: &str = "https://raw.githubusercontent.com/mattermost/mattermost";

/// One fragment's place in the assembled text, to name it in errors.
#[derive(Debug, Clone)]
pub struct Fragment {
    pub name: String,
    /// 1-based line of the assembled text where this fragment starts.
    pub first_line: usize,
}

/// Where the input came from, as recorded in `openapi/source.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A local folder or file, relative to the workspace root when inside it.
    Path {
        path: String,
        git_ref: Option<String>,
    },
    /// Downloaded fragments of upstream at a git ref.
    Ref { git_ref: String, base_url: String },
}

/// The assembled spec text and what it was made of.
#[derive(Debug)]
pub struct Input {
    pub text: String,
    pub fragments: Vec<Fragment>,
    /// Display name of the input, for errors.
    pub label: String,
    pub origin: Origin,
}

impl Input {
    /// sha256 of the assembled text, hex.
    pub fn sha256(&self) -> String {
        hex(&Sha256::digest(self.text.as_bytes()))
    }

    /// Names the fragment and line of a 1-based line of the assembled text.
    pub fn place(&self, line: usize) -> String {
        match self.fragments.iter().rev().find(|f| f.first_line <= line) {
            Some(f) => format!("{} line {}", f.name, line - f.first_line + 1),
            None => format!("{} line {line}", self.label),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fragment names (without `.yaml`) in the order of the `build-v4` recipe of upstream's `api/Makefile`.
/// The Playbooks branches are skipped, as upstream does when the Playbooks spec is absent.
pub fn fragment_order_from_makefile(makefile: &str) -> Result<Vec<String>> {
    let mut in_recipe = false;
    let mut names: Vec<String> = Vec::new();
    for line in makefile.lines() {
        if !in_recipe {
            in_recipe = line.starts_with("build-v4:");
            continue;
        }
        if !(line.starts_with('\t') || line.trim().is_empty()) {
            break;
        }
        let mut rest = line;
        while let Some(at) = rest.find("$(V4_SRC)/") {
            rest = &rest[at + "$(V4_SRC)/".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
                .unwrap_or(rest.len());
            if let Some(name) = rest[..end].strip_suffix(".yaml")
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_owned());
            }
            rest = &rest[end..];
        }
    }
    if names.is_empty() {
        bail!("the Makefile has no `build-v4` recipe concatenating `$(V4_SRC)/*.yaml` fragments");
    }
    if names.last().map(String::as_str) != Some("definitions") {
        bail!("the Makefile's fragment list does not end with definitions.yaml: {names:?}");
    }
    Ok(names)
}

/// Parses the fragment order file kept in `openapi/` (one name a line, `#` comments).
pub fn fragment_order_from_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_end_matches(".yaml").to_owned())
        .collect()
}

fn assemble(
    order: &[String],
    label: String,
    origin: Origin,
    mut fetch: impl FnMut(&str) -> Result<String>,
) -> Result<Input> {
    let mut text = String::new();
    let mut fragments = Vec::new();
    for name in order {
        let body = fetch(name)?;
        fragments.push(Fragment {
            name: format!("{name}.yaml"),
            first_line: text.lines().count() + 1,
        });
        text.push_str(&body);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    Ok(Input {
        text,
        fragments,
        label,
        origin,
    })
}

/// Loads `--from PATH`: a fragments folder or one assembled file. `display` is how the path is
/// recorded (relative to the workspace when inside it). `fallback_order` is the fragment list kept in
/// `openapi/`, used when no Makefile sits beside the folder.
pub fn load_path(
    path: &Path,
    display: String,
    git_ref: Option<String>,
    fallback_order: Option<&Path>,
) -> Result<Input> {
    let origin = Origin::Path {
        path: display.clone(),
        git_ref,
    };
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the spec file {display}"))?;
        return Ok(Input {
            text,
            fragments: Vec::new(),
            label: display,
            origin,
        });
    }
    if !path.is_dir() {
        bail!("{display}: no such file or folder");
    }
    let makefile = [
        path.join("Makefile"),
        path.join("../Makefile"),
        path.join("../../Makefile"),
    ]
    .into_iter()
    .find(|p| p.is_file());
    let order = match (&makefile, fallback_order) {
        (Some(m), _) => {
            let text = std::fs::read_to_string(m)
                .with_context(|| format!("cannot read {}", m.display()))?;
            fragment_order_from_makefile(&text).with_context(|| format!("in {}", m.display()))?
        }
        (None, Some(list)) => {
            let text = std::fs::read_to_string(list)
                .with_context(|| format!("cannot read the fragment list {}", list.display()))?;
            fragment_order_from_list(&text)
        }
        (None, None) => bail!("{display}: no Makefile beside the fragments and no fragment list"),
    };
    let listed_by = makefile
        .as_ref()
        .map(|m| m.display().to_string())
        .unwrap_or_else(|| "the fragment list".to_owned());
    assemble(&order, display.clone(), origin, |name| {
        let file: PathBuf = path.join(format!("{name}.yaml"));
        if !file.is_file() {
            bail!(
                "the fragment list does not match the folder: {listed_by} lists {name}.yaml, \
                 which is not in {display}"
            );
        }
        std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))
    })
}

/// Downloads the fragments of upstream at `git_ref` from `base_url` (`{base}/{ref}/api/Makefile`,
/// `{base}/{ref}/api/v4/source/{name}.yaml`), in the Makefile's order.
pub fn load_ref(git_ref: &str, base_url: &str) -> Result<Input> {
    let base = base_url.trim_end_matches('/');
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build(),
    );
    let get = |url: &str| -> Result<String> {
        let mut resp = agent
            .get(url)
            .call()
            .map_err(|e| anyhow!("GET {url}: {e}"))?;
        resp.body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| anyhow!("GET {url}: reading the body: {e}"))
    };
    let makefile_url = format!("{base}/{git_ref}/api/Makefile");
    let makefile = get(&makefile_url)?;
    let order =
        fragment_order_from_makefile(&makefile).with_context(|| format!("in {makefile_url}"))?;
    let origin = Origin::Ref {
        git_ref: git_ref.to_owned(),
        base_url: base.to_owned(),
    };
    assemble(
        &order,
        format!("{UPSTREAM_REPO}@{git_ref}"),
        origin,
        |name| {
            let url = format!("{base}/{git_ref}/api/v4/source/{name}.yaml");
            get(&url).with_context(|| {
                format!("the fragment list does not match the ref: api/Makefile lists {name}.yaml")
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAKEFILE: &str = "build: build-v4\n\nbuild-v4: node_modules\n\t@echo x\n\n\t@if [ -r $(PLAYBOOKS_SRC)/merged-tags.yaml ]; then cat $(PLAYBOOKS_SRC)/merged-tags.yaml > $(V4_YAML); else cat $(V4_SRC)/introduction.yaml > $(V4_YAML); fi\n\t@cat $(V4_SRC)/users.yaml >> $(V4_YAML)\n\t@if [ -r $(PLAYBOOKS_SRC)/merged-definitions.yaml ]; then cat $(PLAYBOOKS_SRC)/merged-definitions.yaml >> $(V4_YAML); else cat $(V4_SRC)/definitions.yaml >> $(V4_YAML); fi\n\nclean:\n\trm -rf $(V4_SRC)/other.yaml\n";

    #[test]
    fn makefile_order_follows_the_build_recipe_only() {
        let order = fragment_order_from_makefile(MAKEFILE).unwrap();
        assert_eq!(order, ["introduction", "users", "definitions"]);
    }

    #[test]
    fn makefile_without_recipe_is_an_error() {
        let err = fragment_order_from_makefile("all:\n\techo\n").unwrap_err();
        assert!(err.to_string().contains("build-v4"), "{err}");
    }

    #[test]
    fn place_names_the_fragment_and_its_line() {
        let input = assemble(
            &["a".into(), "b".into()],
            "x".into(),
            Origin::Ref {
                git_ref: "r".into(),
                base_url: "u".into(),
            },
            |n| {
                Ok(if n == "a" {
                    "1\n2\n".into()
                } else {
                    "3\n4\n5".into()
                })
            },
        )
        .unwrap();
        assert_eq!(input.place(2), "a.yaml line 2");
        assert_eq!(input.place(4), "b.yaml line 2");
        assert!(input.text.ends_with("5\n"));
    }
}
