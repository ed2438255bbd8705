//! YAML to JSON value, keeping track of duplicate mapping keys.
//!
//! Upstream assembles the spec by concatenating fragments, so a key can appear twice (a path defined in
//! two fragments, a method twice under one path). YAML parsers disagree on what that means; we do what
//! upstream's own tooling does (the later value wins) and report every duplicate by its place.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A mapping key seen twice, by its JSON pointer-like place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub place: String,
}

/// Parses YAML text into a JSON value. Keys that are YAML scalars of another type (`200:`) become
/// strings. Errors carry serde_yaml's line and column.
pub fn parse(text: &str) -> Result<(Value, Vec<Duplicate>), serde_yaml::Error> {
    let dups = RefCell::new(Vec::new());
    let de = serde_yaml::Deserializer::from_str(text);
    let value = Seed {
        place: String::new(),
        dups: &dups,
    }
    .deserialize(de)?;
    Ok((value, dups.into_inner()))
}

struct Seed<'a> {
    place: String,
    dups: &'a RefCell<Vec<Duplicate>>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("non-finite number {v} at {}", self.place)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Seed {
            place: format!("{}/{}", self.place, out.len()),
            dups: self.dups,
        })? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(key)) = map.next_key()? {
            let place = format!("{}/{}", self.place, key);
            let value = map.next_value_seed(Seed {
                place: place.clone(),
                dups: self.dups,
            })?;
            if out.insert(key, value).is_some() {
                self.dups.borrow_mut().push(Duplicate { place });
            }
        }
        Ok(Value::Object(out))
    }
}

/// A mapping key of any scalar type, as a string.
struct Key(String);

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key, E> {
                Ok(Key(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key("null".to_owned()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_duplicate_wins_and_is_reported() {
        let (v, dups) = parse("a:\n  x: 1\n  x: 2\n200: ok\n").unwrap();
        assert_eq!(v["a"]["x"], 2);
        assert_eq!(v["200"], "ok");
        assert_eq!(
            dups,
            vec![Duplicate {
                place: "/a/x".into()
            }]
        );
    }

    #[test]
    fn invalid_yaml_reports_line() {
        let err = parse("a: [1, 2\nb: c\n").unwrap_err();
        assert!(err.location().is_some(), "{err}");
    }
}
