//! JSON objects that refuse duplicate member names (RFC 7515 section 5.2:
//! a header with duplicate names must be rejected, not last-one-wins).

use std::fmt;

use serde::Deserializer;
use serde::de::{MapAccess, Visitor};
use serde_json::{Map, Value};

struct StrictObject;

impl<'de> Visitor<'de> for StrictObject {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object without duplicate member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, value)) = access.next_entry::<String, Value>()? {
            if map.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "duplicate member `{key}`"
                )));
            }
            map.insert(key, value);
        }
        Ok(map)
    }
}

/// Parses `bytes` as one JSON object whose top-level member names are unique.
pub(crate) fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let map = (&mut de).deserialize_map(StrictObject).ok()?;
    de.end().ok()?;
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_non_objects_are_refused() {
        assert!(object(br#"{"alg":"RS256","kid":"a"}"#).is_some());
        assert!(object(br#"{"alg":"RS256","alg":"none"}"#).is_none());
        assert!(object(br#"[1]"#).is_none());
        assert!(object(br#"{"a":1} {"b":2}"#).is_none());
        assert!(object(b"").is_none());
    }
}
