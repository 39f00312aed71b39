//! What the admin API's request schemas say beyond what utoipa derives from
//! the types: the formats the core parsers accept (grant types, scopes,
//! audiences, redirect URIs, email addresses, names) and the rules across a
//! new client's fields (`NewClient::validate`), in JSON Schema 2020-12 as
//! OpenAPI 3.1 allows. A schemathesis run in the tests holds the server to
//! them: every request these schemas allow must be accepted.

use serde_json::{Value, json};

/// The grant type names `GrantType` parses.
const GRANT_TYPES: [&str; 7] = [
    "authorization_code",
    "client_credentials",
    "implicit",
    "password",
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
];

/// Space-separated scope tokens of RFC 6749 3.3 (`ScopeSet::parse`, which
/// tolerates repeated spaces).
const SCOPE: &str = r"^[ !#-\[\]-~]*$";

/// An absolute URI without a fragment, printable ASCII (`Resource::parse`).
const RESOURCE: &str = r#"^[A-Za-z][A-Za-z0-9+.\-]*:[!"$-~]+$"#;

/// Redirect URIs `RedirectUri::parse` accepts, in a plain form: https to a
/// host name, http to a loopback host, or a private-use reverse-domain
/// scheme for native apps; an optional port, path and query, no fragment.
/// (The parser accepts more, such as any host the URL standard allows; this
/// is what the schema promises.)
const REDIRECT_URI: &str = concat!(
    r"^(https://([a-z0-9]+(-[a-z0-9]+)*\.)*[a-z][a-z0-9]*(-[a-z0-9]+)*(:[1-9][0-9]{0,3})?",
    r"|http://(127\.0\.0\.1|localhost|\[::1\])(:[1-9][0-9]{0,3})?",
    r"|[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+:)",
    r"(/[A-Za-z0-9._~-]*)*(\?[A-Za-z0-9._~=&-]*)?$"
);

/// `local@domain` without white space (Unicode's White_Space, which Rust's
/// `char::is_whitespace` follows, spelled out: ECMA's `\s` differs) or
/// control characters, the domain not starting or ending with a dot
/// (`Profile::validate`).
const EMAIL: &str = concat!(
    r"^[^@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+",
    r"@([^@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"|[^@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"[^@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*",
    r"[^@.\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])$"
);

/// An absolute http(s) URL with a host, no fragment, no white space or
/// control characters (`backchannel::check_uri`).
const BACKCHANNEL_URI: &str = concat!(
    r"^https?://[^/?#@\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+",
    r"([/?][^#\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$"
);

/// A name without control characters (`Profile::validate`).
const NAME: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// A client name: something besides white space, no control characters
/// (`NewClient::validate`).
const CLIENT_NAME: &str = concat!(
    r"^[^\u0000-\u001f\u007f-\u009f]*",
    r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
    r"[^\u0000-\u001f\u007f-\u009f]*$"
);

/// Adds the rules to the schemas of `document` (the admin API's OpenAPI
/// document as JSON).
pub(crate) fn refine(document: &mut Value) {
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if let Some(client) = schemas.get_mut("NewClientRequest") {
        refine_new_client(client);
    }
    if let Some(user) = schemas.get_mut("NewUserRequest") {
        let email = json!({"pattern": EMAIL, "maxLength": 254});
        merge(user, "/properties/email", &email);
        for field in ["name", "given_name", "family_name"] {
            let name = json!({"pattern": NAME, "maxLength": 256});
            merge(user, &format!("/properties/{field}"), &name);
        }
    }
}

fn refine_new_client(client: &mut Value) {
    let uri_list = json!({"items": {"type": "string", "pattern": REDIRECT_URI}});
    merge(
        client,
        "/properties/name",
        &json!({"pattern": CLIENT_NAME, "maxLength": portcullis_core::client::MAX_NAME_CHARS}),
    );
    merge(
        client,
        "/properties/grant_types",
        &json!({"items": {"type": "string", "enum": GRANT_TYPES}}),
    );
    merge(client, "/properties/scope", &json!({"pattern": SCOPE}));
    merge(
        client,
        "/properties/audiences",
        &json!({"items": {"type": "string", "pattern": RESOURCE, "maxLength": 2048}}),
    );
    merge(client, "/properties/redirect_uris", &uri_list);
    merge(
        client,
        "/properties/backchannel_logout_uri",
        &json!({"pattern": BACKCHANNEL_URI, "maxLength": 2048}),
    );
    merge(client, "/properties/post_logout_redirect_uris", &uri_list);
    // NewClient::validate, rule by rule.
    let rules = json!([
        {
            "description": "A public client has no secret, so it cannot use client_credentials or exchange tokens.",
            "if": {"required": ["public"], "properties": {"public": {"const": true}}},
            "then": {"properties": {"grant_types": {"not": {"contains": {"enum": [
                "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"
            ]}}}}}
        },
        {
            "description": "allow_impersonation is only for clients with the token exchange grant.",
            "if": {"required": ["allow_impersonation"], "properties": {"allow_impersonation": {"const": true}}},
            "then": {"properties": {"grant_types": {"contains": {"const": "urn:ietf:params:oauth:grant-type:token-exchange"}}}}
        },
        {
            "description": "authorization_code and implicit need a redirect URI; other clients have none.",
            "if": {"properties": {"grant_types": {"contains": {"enum": ["authorization_code", "implicit"]}}}},
            "then": {"required": ["redirect_uris"], "properties": {"redirect_uris": {"minItems": 1}}},
            "else": {"properties": {"redirect_uris": {"maxItems": 0}}}
        },
        {
            "description": "refresh_token needs authorization_code, password, the device grant or token exchange to issue the first refresh token.",
            "if": {"properties": {"grant_types": {"contains": {"const": "refresh_token"}}}},
            "then": {"properties": {"grant_types": {"contains": {"enum": [
                "authorization_code", "password", "urn:ietf:params:oauth:grant-type:device_code",
                "urn:ietf:params:oauth:grant-type:token-exchange"
            ]}}}}
        }
    ]);
    if let Some(object) = client.as_object_mut() {
        object.insert("allOf".to_owned(), rules);
    }
}

/// Merges the keys of `extra` into the object at `pointer` in `schema`.
fn merge(schema: &mut Value, pointer: &str, extra: &Value) {
    let (Some(target), Some(extra)) = (
        schema.pointer_mut(pointer).and_then(Value::as_object_mut),
        extra.as_object(),
    ) else {
        return;
    };
    for (key, value) in extra {
        match (target.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => {
                existing.extend(more.clone());
            }
            _ => {
                target.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_core::redirect_uri::RedirectUri;
    use portcullis_core::user::Profile;
    use portcullis_core::{GrantType, Resource, ScopeSet};
    use proptest::prelude::*;
    use regex::Regex;

    #[test]
    fn the_schema_names_exactly_the_grant_types_the_core_parses() {
        let mut names: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, GRANT_TYPES);
    }

    #[test]
    fn the_rules_land_in_the_served_document() {
        let document: Value =
            serde_json::from_str(&super::super::openapi_json()).unwrap_or_default();
        let client = &document["components"]["schemas"]["NewClientRequest"];
        assert_eq!(client["allOf"].as_array().map(Vec::len), Some(4));
        assert_eq!(
            client["properties"]["grant_types"]["items"]["enum"],
            json!(GRANT_TYPES)
        );
        assert_eq!(
            client["properties"]["redirect_uris"]["items"]["pattern"],
            REDIRECT_URI
        );
        let user = &document["components"]["schemas"]["NewUserRequest"];
        assert_eq!(user["properties"]["email"]["pattern"], EMAIL);
        assert_eq!(user["properties"]["name"]["maxLength"], 256);
    }

    /// Strings from characters each pattern must tell apart: separators,
    /// dots, quotes, Unicode and ASCII white space and control characters,
    /// the byte-order mark ECMA's `\s` counts and Unicode does not.
    fn tricky_text() -> impl Strategy<Value = String> {
        let chars = vec![
            'a', 'Z', '0', '@', '.', ':', '/', '#', '"', '\\', '!', '~', '$', '+', '-', ' ', '\t',
            '\u{0}', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}', '\u{a0}', '\u{2003}', '\u{feff}', 'é',
            '日',
        ];
        proptest::collection::vec(proptest::sample::select(chars), 0..10)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn matches(pattern: &str, text: &str) -> bool {
        Regex::new(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(text)
    }

    proptest! {
        /// Fails if the schema promised a redirect URI the server refuses.
        #[test]
        fn every_redirect_uri_the_pattern_allows_is_registrable(
            uri in proptest::string::string_regex(
                // The generator wants the pattern without its anchors.
                REDIRECT_URI.trim_start_matches('^').trim_end_matches('$')
            ).unwrap_or_else(|e| panic!("{e}"))
        ) {
            prop_assert!(RedirectUri::parse(&uri).is_ok(), "{}", uri);
        }

        /// Fails if the logout URI pattern and `check_uri` disagree.
        #[test]
        fn the_backchannel_pattern_is_check_uri(tail in tricky_text(), https in any::<bool>()) {
            let text = format!("{}{tail}", if https { "https://" } else { "http://" });
            prop_assert_eq!(
                matches(BACKCHANNEL_URI, &text),
                portcullis_core::backchannel::check_uri(&text).is_ok(),
                "{:?}", text
            );
        }

        /// Fails if the email pattern and `Profile::validate` disagree.
        #[test]
        fn the_email_pattern_is_profile_validate(text in tricky_text()) {
            let profile = Profile { email: Some(text.clone()), ..Profile::default() };
            prop_assert_eq!(matches(EMAIL, &text), profile.validate().is_ok(), "{:?}", text);
        }

        /// Fails if the name pattern and `Profile::validate` disagree.
        #[test]
        fn the_name_pattern_is_profile_validate(text in tricky_text()) {
            let profile = Profile { name: Some(text.clone()), ..Profile::default() };
            prop_assert_eq!(matches(NAME, &text), profile.validate().is_ok(), "{:?}", text);
        }

        /// Fails if the client name pattern and `NewClient::validate` disagree.
        #[test]
        fn the_client_name_pattern_is_new_client_validate(text in tricky_text()) {
            let client = portcullis_core::NewClient {
                name: text.clone(),
                grant_types: vec![GrantType::ClientCredentials],
                ..portcullis_core::NewClient::default()
            };
            prop_assert_eq!(matches(CLIENT_NAME, &text), client.validate().is_ok(), "{:?}", text);
        }

        /// Fails if the scope pattern and `ScopeSet::parse` disagree.
        #[test]
        fn the_scope_pattern_is_scope_set_parse(text in tricky_text()) {
            prop_assert_eq!(matches(SCOPE, &text), ScopeSet::parse(&text).is_some(), "{:?}", text);
        }

        /// Fails if the audience pattern and `Resource::parse` disagree.
        #[test]
        fn the_audience_pattern_is_resource_parse(text in tricky_text()) {
            prop_assert_eq!(matches(RESOURCE, &text), Resource::parse(&text).is_some(), "{:?}", text);
        }
    }
}
