//! The API-area features of Cargo.toml and the areas of openapi/features.toml are the same list, and
//! every tag of the vendored spec belongs to an area.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn cargo_features_match_the_areas_and_every_tag_has_an_area() {
    let areas: toml::Value = toml::from_str(&read("openapi/features.toml")).unwrap();
    let areas = areas["areas"].as_table().unwrap();
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let full: BTreeSet<&str> = manifest["features"]["full"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let names: BTreeSet<&str> = areas.keys().map(String::as_str).collect();
    assert_eq!(full, names, "`full` in Cargo.toml lists exactly the areas");
    for name in &names {
        assert!(
            manifest["features"].get(*name).is_some(),
            "feature {name} is declared"
        );
    }

    let tags: BTreeSet<&str> = areas
        .values()
        .flat_map(|v| v.as_array().unwrap())
        .filter_map(|t| t.as_str())
        .collect();
    let spec: serde_json::Value =
        serde_json::from_str(&read("openapi/mattermost-v4.json")).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for tag in op["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str())
            {
                assert!(
                    tags.contains(tag),
                    "{method} {path}: tag `{tag}` has no area"
                );
            }
        }
    }
}
