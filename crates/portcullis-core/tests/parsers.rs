//! Property tests for everything that parses attacker-controlled text.

use portcullis_core::grant::client_credentials::ClientCredentialsRequest;
use portcullis_core::{ClientId, Resource, ScopeSet};
use proptest::prelude::*;

proptest! {
    #[test]
    fn scope_parsing_never_panics_and_round_trips(text in "\\PC{0,64}") {
        if let Some(scopes) = ScopeSet::parse(&text) {
            let printed = scopes.to_string();
            prop_assert_eq!(ScopeSet::parse(&printed), Some(scopes.clone()));
            prop_assert!(scopes.is_subset_of(&scopes));
            prop_assert!(!printed.contains("  "));
        }
    }

    #[test]
    fn valid_scope_tokens_always_parse(tokens in proptest::collection::vec("[!#-\\[\\]-~]{1,12}", 0..6)) {
        let text = tokens.join(" ");
        let parsed = ScopeSet::parse(&text);
        prop_assert!(parsed.is_some());
        for token in &tokens {
            prop_assert!(parsed.as_ref().is_some_and(|p| p.iter().any(|s| s.as_str() == token)));
        }
    }

    #[test]
    fn resource_parsing_never_accepts_fragments_or_spaces(text in "\\PC{0,80}") {
        if let Some(resource) = Resource::parse(&text) {
            prop_assert!(!resource.as_str().contains('#'));
            prop_assert!(!resource.as_str().contains(char::is_whitespace));
            prop_assert!(resource.as_str().contains(':'));
        }
    }

    #[test]
    fn client_ids_are_visible_ascii(text in "\\PC{0,300}") {
        if let Some(id) = ClientId::parse(&text) {
            prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_graphic()));
            prop_assert!(id.as_str().len() <= 255);
        }
    }

    #[test]
    fn token_request_parsing_never_panics(scope in proptest::option::of("\\PC{0,40}"), resources in proptest::collection::vec("\\PC{0,40}", 0..4)) {
        let resources: Vec<&str> = resources.iter().map(String::as_str).collect();
        if let Err(err) = ClientCredentialsRequest::parse(scope.as_deref(), &resources) {
            prop_assert!(matches!(err.code(), "invalid_scope" | "invalid_target"));
        }
    }
}
