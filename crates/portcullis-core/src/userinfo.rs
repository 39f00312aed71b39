//! The UserInfo endpoint's answer (OIDC Core 5.3 and 5.4): the claims the
//! access token's scopes allow.

use serde_json::{Map, Value, json};

use crate::ScopeSet;
use crate::user::User;

/// The claims of `user` that `scope` releases: `sub` always, name fields
/// for `profile`, `email` and `email_verified` for `email`. Absent values are
/// left out rather than sent as null.
pub fn claims(user: &User, scope: &ScopeSet) -> Map<String, Value> {
    let has = |name: &str| scope.iter().any(|s| s.as_str() == name);
    let mut out = Map::new();
    out.insert("sub".into(), json!(user.id.as_str()));
    let p = &user.profile;
    if has("profile") {
        out.insert("preferred_username".into(), json!(user.username.as_str()));
        for (name, value) in [
            ("name", &p.name),
            ("given_name", &p.given_name),
            ("family_name", &p.family_name),
        ] {
            if let Some(value) = value {
                out.insert(name.into(), json!(value));
            }
        }
    }
    if has("email")
        && let Some(email) = &p.email
    {
        out.insert("email".into(), json!(email));
        out.insert("email_verified".into(), json!(p.email_verified));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UnixTime;
    use crate::password::{Password, PasswordHash};
    use crate::user::{NewUser, Profile, Username};

    #[test]
    fn claims_follow_the_scopes() {
        let user = NewUser {
            username: Username::parse("alice").unwrap_or_else(|e| panic!("{e}")),
            profile: Profile {
                email: Some("alice@example.com".into()),
                email_verified: false,
                name: Some("Alice Liddell".into()),
                given_name: None,
                family_name: None,
            },
            password_hash: PasswordHash::create(&Password::presented("irrelevant")),
        }
        .register(UnixTime(0));
        let only = |s: &str| claims(&user, &ScopeSet::parse(s).unwrap_or_default());
        assert_eq!(
            Value::Object(only("openid")),
            json!({"sub": user.id.as_str()})
        );
        assert_eq!(
            Value::Object(only("openid profile")),
            json!({"sub": user.id.as_str(), "preferred_username": "alice", "name": "Alice Liddell"})
        );
        assert_eq!(
            Value::Object(only("openid email")),
            json!({"sub": user.id.as_str(), "email": "alice@example.com", "email_verified": false})
        );
    }
}
