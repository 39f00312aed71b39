//! Registered-claims validation (`exp`, `nbf`, `iat`, `iss`, `aud`) against an injected time.

use serde_json::{Map, Value};

use crate::Error;

/// What a verifier requires of a token's registered claims, built once and
/// applied to every token with the current time passed in.
///
/// Unlike `jsonwebtoken::Validation`, an issuer and at least one audience are
/// required unless explicitly waived, `exp` is always required, and the clock
/// is the caller's.
///
/// ```
/// use portcullis_jose::{ClaimsPolicy, Error};
/// use serde_json::json;
///
/// let policy = ClaimsPolicy::new("https://id.example", ["https://api.example"]).leeway(5);
/// let claims = json!({"iss": "https://id.example", "aud": ["x", "https://api.example"], "exp": 100});
/// let claims = claims.as_object().unwrap();
/// assert_eq!(policy.validate(claims, 104), Ok(()));
/// assert_eq!(policy.validate(claims, 105), Err(Error::Expired));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsPolicy {
    issuer: Option<String>,
    audiences: Option<Vec<String>>,
    leeway: i64,
    required_typ: Option<String>,
    exp_required: bool,
}

impl ClaimsPolicy {
    /// The default leeway for clock skew, in seconds.
    pub const DEFAULT_LEEWAY: i64 = 30;

    /// Requires `iss == issuer` and an `aud` holding one of `audiences`.
    pub fn new<A: Into<String>>(
        issuer: impl Into<String>,
        audiences: impl IntoIterator<Item = A>,
    ) -> Self {
        ClaimsPolicy {
            issuer: Some(issuer.into()),
            audiences: Some(audiences.into_iter().map(Into::into).collect()),
            leeway: Self::DEFAULT_LEEWAY,
            required_typ: None,
            exp_required: true,
        }
    }

    /// Checks times only: any issuer and any audience are accepted. For
    /// debugging tools, never for a resource server.
    ///
    /// ```
    /// use portcullis_jose::ClaimsPolicy;
    /// let claims = serde_json::json!({"exp": 10});
    /// assert!(ClaimsPolicy::times_only().validate(claims.as_object().unwrap(), 5).is_ok());
    /// ```
    pub fn times_only() -> Self {
        ClaimsPolicy {
            issuer: None,
            audiences: None,
            leeway: Self::DEFAULT_LEEWAY,
            required_typ: None,
            exp_required: true,
        }
    }

    /// Requires an `aud` holding one of `audiences` but accepts any issuer:
    /// for tokens from peers sharing a secret, where no issuer is agreed.
    ///
    /// ```
    /// use portcullis_jose::ClaimsPolicy;
    /// let claims = serde_json::json!({"aud": "api", "exp": 10});
    /// assert!(ClaimsPolicy::audience_only(["api"]).validate(claims.as_object().unwrap(), 5).is_ok());
    /// ```
    pub fn audience_only<A: Into<String>>(audiences: impl IntoIterator<Item = A>) -> Self {
        ClaimsPolicy {
            issuer: None,
            audiences: Some(audiences.into_iter().map(Into::into).collect()),
            leeway: Self::DEFAULT_LEEWAY,
            required_typ: None,
            exp_required: true,
        }
    }

    /// Requires `iss == issuer` but accepts any audience: for debugging
    /// tools, never for a resource server.
    ///
    /// ```
    /// use portcullis_jose::{ClaimsPolicy, Error};
    /// let policy = ClaimsPolicy::issuer_only("https://id");
    /// let claims = serde_json::json!({"iss": "https://id", "aud": "anything", "exp": 10});
    /// assert!(policy.validate(claims.as_object().unwrap(), 5).is_ok());
    /// let claims = serde_json::json!({"iss": "https://other", "exp": 10});
    /// assert_eq!(policy.validate(claims.as_object().unwrap(), 5), Err(Error::WrongIssuer));
    /// ```
    pub fn issuer_only(issuer: impl Into<String>) -> Self {
        ClaimsPolicy {
            issuer: Some(issuer.into()),
            ..Self::times_only()
        }
    }

    /// Accepts a token without `exp` (one that never expires), as PyJWT
    /// does; `exp` is still checked when present. For debugging tools that
    /// must read tokens minted elsewhere, never for a resource server.
    ///
    /// ```
    /// use portcullis_jose::ClaimsPolicy;
    /// let claims = serde_json::json!({"sub": "a"});
    /// assert!(ClaimsPolicy::times_only().validate(claims.as_object().unwrap(), 5).is_err());
    /// let lenient = ClaimsPolicy::times_only().exp_optional();
    /// assert!(lenient.validate(claims.as_object().unwrap(), 5).is_ok());
    /// ```
    pub fn exp_optional(mut self) -> Self {
        self.exp_required = false;
        self
    }

    /// The tolerated clock skew in seconds.
    pub fn leeway_seconds(&self) -> i64 {
        self.leeway
    }

    /// Sets the tolerated clock skew in seconds (negative values count as zero).
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds.max(0);
        self
    }

    /// Requires the protected header's `typ` (compared case-insensitively,
    /// with or without the `application/` prefix), e.g. `at+jwt` for RFC 9068.
    ///
    /// ```
    /// use portcullis_jose::ClaimsPolicy;
    /// let policy = ClaimsPolicy::times_only().require_type("at+jwt");
    /// assert!(policy.accepts_type(Some("application/AT+JWT")));
    /// assert!(!policy.accepts_type(Some("JWT")));
    /// assert!(!policy.accepts_type(None));
    /// ```
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.required_typ = Some(typ.into());
        self
    }

    /// Whether a header `typ` satisfies [`ClaimsPolicy::require_type`].
    pub fn accepts_type(&self, typ: Option<&str>) -> bool {
        let Some(required) = &self.required_typ else {
            return true;
        };
        let Some(typ) = typ else {
            return false;
        };
        let bare = |t: &str| {
            let lower = t.to_ascii_lowercase();
            lower
                .strip_prefix("application/")
                .map(str::to_owned)
                .unwrap_or(lower)
        };
        bare(typ) == bare(required)
    }

    /// Validates the registered claims of a verified token at time `now`
    /// (Unix seconds).
    pub fn validate(&self, claims: &Map<String, Value>, now: i64) -> Result<(), Error> {
        match time_claim(claims, "exp")? {
            Some(exp) if now.saturating_sub(self.leeway) >= exp => return Err(Error::Expired),
            Some(_) => {}
            None if self.exp_required => return Err(Error::MissingClaim("exp")),
            None => {}
        }
        if let Some(nbf) = time_claim(claims, "nbf")?
            && nbf > now.saturating_add(self.leeway)
        {
            return Err(Error::NotYetValid);
        }
        if let Some(iat) = time_claim(claims, "iat")?
            && iat > now.saturating_add(self.leeway)
        {
            return Err(Error::IssuedInFuture);
        }
        if let Some(issuer) = &self.issuer {
            match claims.get("iss") {
                Some(Value::String(iss)) if iss == issuer => {}
                Some(Value::String(_)) => return Err(Error::WrongIssuer),
                _ => return Err(Error::MissingClaim("iss")),
            }
        }
        if let Some(accepted) = &self.audiences {
            let matches = |aud: &str| accepted.iter().any(|a| a == aud);
            match claims.get("aud") {
                Some(Value::String(aud)) if matches(aud) => {}
                Some(Value::Array(auds))
                    if auds.iter().any(|a| a.as_str().is_some_and(matches)) => {}
                Some(Value::String(_) | Value::Array(_)) => return Err(Error::WrongAudience),
                _ => return Err(Error::MissingClaim("aud")),
            }
        }
        Ok(())
    }
}

/// A NumericDate claim: a JSON number of seconds (fractions are truncated).
fn time_claim(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, Error> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or(Error::MissingClaim(name)),
        Some(_) => Err(Error::MissingClaim(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(policy: &ClaimsPolicy, claims: Value, now: i64) -> Result<(), Error> {
        policy.validate(claims.as_object().expect("object"), now)
    }

    fn policy() -> ClaimsPolicy {
        ClaimsPolicy::new("iss", ["api"]).leeway(10)
    }

    #[test]
    fn expiry_honours_leeway_on_both_sides() {
        let claims = json!({"iss": "iss", "aud": "api", "exp": 100});
        assert_eq!(check(&policy(), claims.clone(), 109), Ok(()));
        assert_eq!(check(&policy(), claims, 110), Err(Error::Expired));
    }

    #[test]
    fn exp_is_required_and_must_be_a_number() {
        assert_eq!(
            check(&policy(), json!({"iss": "iss", "aud": "api"}), 0),
            Err(Error::MissingClaim("exp"))
        );
        assert_eq!(
            check(
                &policy(),
                json!({"iss": "iss", "aud": "api", "exp": "9999999999"}),
                0
            ),
            Err(Error::MissingClaim("exp"))
        );
    }

    #[test]
    fn not_before_and_issued_at_in_the_future_are_refused() {
        let base = json!({"iss": "iss", "aud": "api", "exp": 1000, "nbf": 50});
        assert_eq!(check(&policy(), base.clone(), 40), Ok(()));
        assert_eq!(check(&policy(), base, 39), Err(Error::NotYetValid));
        let iat = json!({"iss": "iss", "aud": "api", "exp": 1000, "iat": 50});
        assert_eq!(check(&policy(), iat, 39), Err(Error::IssuedInFuture));
    }

    #[test]
    fn issuer_must_match_exactly() {
        let claims = json!({"iss": "iss/", "aud": "api", "exp": 100});
        assert_eq!(check(&policy(), claims, 0), Err(Error::WrongIssuer));
        let claims = json!({"aud": "api", "exp": 100});
        assert_eq!(check(&policy(), claims, 0), Err(Error::MissingClaim("iss")));
    }

    #[test]
    fn audience_array_must_contain_ours() {
        let ok = json!({"iss": "iss", "aud": ["other", "api"], "exp": 100});
        assert_eq!(check(&policy(), ok, 0), Ok(()));
        let bad = json!({"iss": "iss", "aud": ["other", "apis"], "exp": 100});
        assert_eq!(check(&policy(), bad, 0), Err(Error::WrongAudience));
        let missing = json!({"iss": "iss", "exp": 100});
        assert_eq!(
            check(&policy(), missing, 0),
            Err(Error::MissingClaim("aud"))
        );
    }

    #[test]
    fn an_empty_audience_list_accepts_no_token() {
        let policy = ClaimsPolicy::new("iss", Vec::<String>::new());
        let claims = json!({"iss": "iss", "aud": "api", "exp": 100});
        assert_eq!(check(&policy, claims, 0), Err(Error::WrongAudience));
    }
}
