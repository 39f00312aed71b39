//! OpenID Connect Back-Channel Logout 1.0: when a browser session ends
//! (sign-out, end-session, a password change, a disabled or deleted user,
//! an administrator's sign-out), every client that session signed in to and
//! that registered a `backchannel_logout_uri` gets a signed logout token.
//!
//! The notices are written by the store in the transaction that ends the
//! session (so a session never ends without them), and delivered off the
//! user's request by a worker in every replica: claimed so that one replica
//! sends each, retried [`MAX_ATTEMPTS`] times with growing delays, and the
//! outcome recorded.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Value, json};

use crate::token_hash::TokenHash;
use crate::user::UserId;
use crate::{ClientId, Seconds, UnixTime, random};

/// The event a logout token carries (Back-Channel Logout 2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The JOSE `typ` of a logout token (Back-Channel Logout 2.4).
pub const TYP: &str = "logout+jwt";
/// How many deliveries are tried before the notice is recorded as failed.
pub const MAX_ATTEMPTS: u32 = 4;
/// How long a logout token is valid.
pub const LIFETIME: Seconds = Seconds(120);

/// The `sid` of a session: derived from its stored hash, so it names the
/// session without revealing the cookie, and is stable for its life.
pub fn sid_of(session: &TokenHash) -> String {
    let derived = TokenHash::of(&format!("sid:{}", URL_SAFE_NO_PAD.encode(session.0)));
    URL_SAFE_NO_PAD.encode(&derived.0[..16])
}

/// A logout token to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutNotice {
    /// The notice: the session and the client.
    pub id: String,
    /// Who is told.
    pub client_id: ClientId,
    /// Who signed out.
    pub user_id: UserId,
    /// The session that ended.
    pub sid: String,
    /// Deliveries tried so far.
    pub attempts: u32,
}

/// What a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The client answered 200 or 204.
    Delivered,
    /// It failed; try again at this time.
    Retry(UnixTime, String),
    /// It failed for the last time.
    Failed(String),
}

impl Delivery {
    /// The outcome of the attempt after `notice.attempts` earlier ones:
    /// delivered, or retried after 1, 2, 4 ... seconds until
    /// [`MAX_ATTEMPTS`], then failed.
    pub fn after(notice: &LogoutNotice, result: Result<(), String>, now: UnixTime) -> Self {
        match result {
            Ok(()) => Delivery::Delivered,
            Err(why) if notice.attempts + 1 >= MAX_ATTEMPTS => Delivery::Failed(why),
            Err(why) => Delivery::Retry(now + Seconds(1 << notice.attempts.min(10)), why),
        }
    }
}

/// The claims of a logout token (Back-Channel Logout 2.4): no `nonce`, the
/// event, the user and the session.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogoutTokenClaims {
    /// The issuer.
    pub iss: String,
    /// The client told.
    pub aud: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Unique per token.
    pub jti: String,
    /// The user.
    pub sub: String,
    /// The session.
    pub sid: String,
    /// `{EVENT: {}}`.
    pub events: Value,
}

impl LogoutTokenClaims {
    /// The token for `notice`, issued now.
    pub fn new(issuer: &str, notice: &LogoutNotice, now: UnixTime) -> Self {
        LogoutTokenClaims {
            iss: issuer.to_owned(),
            aud: notice.client_id.as_str().to_owned(),
            iat: now.0,
            exp: (now + LIFETIME).0,
            jti: random::token::<16>(),
            sub: notice.user_id.as_str().to_owned(),
            sid: notice.sid.clone(),
            events: json!({ EVENT: {} }),
        }
    }
}

/// Checks a `backchannel_logout_uri`: an absolute http(s) URL without a
/// fragment (Back-Channel Logout 2.2).
pub fn check_uri(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        let host = r.split(['/', '?']).next().unwrap_or("");
        !host.is_empty() && !host.contains('@')
    }) && !text.contains('#')
        && !text.contains(|c: char| c.is_whitespace() || c.is_control())
        && text.chars().count() <= 2048;
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "backchannel_logout_uri `{text}`: expected an absolute http(s) URL without a fragment"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(attempts: u32) -> LogoutNotice {
        LogoutNotice {
            id: "n".into(),
            client_id: ClientId::parse("app").unwrap_or_else(|| unreachable!()),
            user_id: UserId::from_stored("u".into()),
            sid: "s".into(),
            attempts,
        }
    }

    #[test]
    fn sids_are_stable_and_reveal_nothing_of_the_session() {
        let a = TokenHash::of("cookie-a");
        assert_eq!(sid_of(&a), sid_of(&a));
        assert_ne!(sid_of(&a), sid_of(&TokenHash::of("cookie-b")));
        assert_eq!(sid_of(&a).len(), 22);
        assert!(!sid_of(&a).contains(&URL_SAFE_NO_PAD.encode(a.0)[..8]));
    }

    #[test]
    fn deliveries_retry_with_growing_delays_then_fail() {
        let now = UnixTime(100);
        assert_eq!(
            Delivery::after(&notice(0), Ok(()), now),
            Delivery::Delivered
        );
        let err = || Err("503".to_owned());
        assert_eq!(
            Delivery::after(&notice(0), err(), now),
            Delivery::Retry(UnixTime(101), "503".into())
        );
        assert_eq!(
            Delivery::after(&notice(2), err(), now),
            Delivery::Retry(UnixTime(104), "503".into())
        );
        assert_eq!(
            Delivery::after(&notice(MAX_ATTEMPTS - 1), err(), now),
            Delivery::Failed("503".into())
        );
    }

    #[test]
    fn logout_tokens_carry_the_event_and_no_nonce() {
        let claims = LogoutTokenClaims::new("https://op", &notice(0), UnixTime(10));
        let json = serde_json::to_value(&claims).unwrap_or_default();
        assert_eq!(json["events"], json!({EVENT: {}}));
        assert_eq!(json["exp"], 130);
        assert!(json.get("nonce").is_none());
    }

    #[test]
    fn logout_uris_are_absolute_http_urls() {
        assert!(check_uri("https://app.example/logout").is_ok());
        assert!(check_uri("http://127.0.0.1:5000/bcl").is_ok());
        for bad in [
            "/logout",
            "https://",
            "https://a.example/#x",
            "ftp://a/b",
            "https://u@a/b",
        ] {
            assert!(check_uri(bad).is_err(), "{bad}");
        }
    }
}
