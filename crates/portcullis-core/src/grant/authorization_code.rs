//! The authorization code grant (RFC 6749 section 4.1, RFC 7636, OIDC Core
//! 3.1.3): a code issued at `/authorize` and redeemed once at `/token`.
//!
//! Only a SHA-256 of the code is stored: a copy of the database yields no
//! redeemable code. A code is single use; a second redemption is refused and
//! the caller revokes what the first one issued (RFC 6749 section 4.1.2).

use crate::access_token::AccessTokenGrant;
use crate::authorization_request::AuthorizationRequest;
use crate::grant::{
    Decided, GrantError, Grants, IdTokenFor, Issuance, id_token_for, live_until, refresh_token,
    settle,
};
use crate::session::SessionRecord;
pub use crate::store::CodeRecord;
use crate::store::FamilyStep;
pub use crate::token_hash::TokenHash;
use crate::user::UserId;
use crate::{Client, GrantType, Resource, Seconds, TokenError, UnixTime, random};

/// How long a code may wait before it is redeemed.
pub const CODE_LIFETIME: Seconds = Seconds(60);

/// A code to send to the client (once) and its record to store.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// The code itself: 256 random bits.
    pub code: String,
    /// What to store.
    pub record: CodeRecord,
}

/// Issues a code for an authorization the user granted in `session`.
pub fn issue_code(
    client: &Client,
    user: &UserId,
    request: &AuthorizationRequest,
    redirect_uri_sent: bool,
    session: &SessionRecord,
    now: UnixTime,
) -> IssuedCode {
    let auth_time = session.auth_time;
    let code = random::token::<32>();
    IssuedCode {
        record: CodeRecord {
            hash: TokenHash::of(&code),
            client_id: client.id.clone(),
            user_id: user.clone(),
            redirect_uri: request.redirect_uri.clone(),
            redirect_uri_sent,
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            sid: Some(crate::backchannel::sid_of(&session.hash)),
            code_challenge: request.code_challenge.clone(),
            auth_time,
            issued_at: now,
            expires_at: now + CODE_LIFETIME,
        },
        code,
    }
}

/// A token request redeeming a code.
#[derive(Debug, Clone)]
pub struct CodeExchange {
    /// The code.
    pub code: String,
    /// The `redirect_uri` parameter, if sent.
    pub redirect_uri: Option<String>,
    /// The PKCE verifier.
    pub code_verifier: Option<String>,
    /// The requested resources (RFC 8707).
    pub resources: Vec<Resource>,
}

/// The authorization code grant: redeems the code once, in one transaction
/// with the family it starts and its first refresh token. A refused request
/// (wrong verifier, redirect URI or client) leaves the code unspent; a
/// replay revokes what the first redemption issued.
pub async fn issue(
    grants: &Grants<'_>,
    client: &Client,
    request: CodeExchange,
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    let policy = grants.policy;
    let decided = Decided::new();
    let check = |record: &CodeRecord| {
        check_redemption(
            record,
            client,
            request.redirect_uri.as_deref(),
            request.code_verifier.as_deref(),
            now,
        )?;
        let access = AccessTokenGrant::for_user(
            policy,
            client,
            &record.user_id,
            record.scope.clone(),
            &request.resources,
            Some(&record.hash),
            now,
        )?;
        let refresh = refresh_token::offered(client, &record.scope)
            .then(|| refresh_token::first(record, now, policy.refresh_token_lifetime));
        let step = FamilyStep {
            refresh: refresh.as_ref().map(|r| r.record.clone()),
            live_until: live_until(&access, refresh.as_ref()),
        };
        decided.keep((access, refresh.map(|r| r.token)));
        Ok(step)
    };
    let redeemed = grants
        .store
        .redeem_code(&TokenHash::of(&request.code), now, &check)
        .await?;
    let record = settle(
        redeemed,
        "the code is not valid",
        "the code has already been used",
    )?;
    let (access, refresh_token) = decided.take("the code is not valid")?;
    let id_token = id_token_for(
        client,
        &record.user_id,
        &access.scope,
        record.auth_time,
        record.nonce,
    )
    .map(|id_token| IdTokenFor {
        sid: record.sid,
        ..id_token
    });
    Ok(Issuance {
        issued_token_type: None,
        id_token,
        access: Some(access),
        refresh_token,
    })
}

/// Checks a token request's `redirect_uri` and `code_verifier` against the
/// redeemed code, for the authenticated `client`.
pub fn check_redemption(
    record: &CodeRecord,
    client: &Client,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
    now: UnixTime,
) -> Result<(), TokenError> {
    if !client.allows(GrantType::AuthorizationCode) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the authorization_code grant",
        ));
    }
    // Every failure below is the same `invalid_grant` a guessed code gets.
    if record.client_id != client.id {
        return Err(TokenError::InvalidGrant(
            "the code was not issued to this client",
        ));
    }
    if now >= record.expires_at {
        return Err(TokenError::InvalidGrant("the code has expired"));
    }
    match redirect_uri {
        Some(uri) if uri != record.redirect_uri => {
            return Err(TokenError::InvalidGrant(
                "redirect_uri differs from the authorization request",
            ));
        }
        None if record.redirect_uri_sent => {
            return Err(TokenError::InvalidGrant(
                "redirect_uri must repeat the one of the authorization request",
            ));
        }
        _ => {}
    }
    // PKCE downgrade protection (RFC 9700 2.1.1): the verifier goes with the
    // challenge, no verifier without one.
    match (&record.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) => challenge.verify(verifier).map_err(|_| {
            TokenError::InvalidGrant("code_verifier does not match the code_challenge")
        }),
        (Some(_), None) => Err(TokenError::InvalidGrant("code_verifier is missing")),
        (None, Some(_)) => Err(TokenError::InvalidGrant(
            "the code was issued without code_challenge, so it takes no code_verifier",
        )),
        (None, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorization_request::{Prompt, ResponseMode, ResponseType};
    use crate::pkce::CodeChallenge;
    use crate::redirect_uri::RedirectUri;
    use crate::{ClientId, ScopeSet};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client(id: &str) -> Client {
        Client {
            id: ClientId::parse(id).unwrap_or_else(|| unreachable!()),
            name: id.into(),
            secret_hash: None,
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: ScopeSet::parse("openid").unwrap_or_default(),
            audiences: vec![],
            redirect_uris: vec![
                RedirectUri::parse("https://a.example/cb").unwrap_or_else(|e| panic!("{e}")),
            ],
            post_logout_redirect_uris: vec![],
            require_pkce: false,
            allow_impersonation: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            created_at: UnixTime(0),
        }
    }

    fn issued() -> IssuedCode {
        let request = AuthorizationRequest {
            redirect_uri: "https://a.example/cb".into(),
            response_type: ResponseType::Code,
            response_mode: ResponseMode::Query,
            scope: ScopeSet::parse("openid").unwrap_or_default(),
            state: None,
            nonce: Some("n".into()),
            code_challenge: CodeChallenge::parse(CHALLENGE, Some("S256")).ok(),
            prompt: Prompt::default(),
            max_age: None,
            login_hint: None,
        };
        let user = UserId::generate();
        let session = crate::session::NewSession::start(&user, UnixTime(90), crate::Seconds(600));
        issue_code(
            &client("spa"),
            &user,
            &request,
            true,
            &session.record,
            UnixTime(100),
        )
    }

    #[test]
    fn codes_are_random_and_stored_only_as_a_hash() {
        let a = issued();
        let b = issued();
        assert_ne!(a.code, b.code);
        assert_eq!(a.code.len(), 43, "256 bits, base64url");
        assert_eq!(a.record.hash, TokenHash::of(&a.code));
        assert_eq!(a.record.expires_at, UnixTime(160));
    }

    #[test]
    fn redemption_checks_client_expiry_redirect_uri_and_verifier() {
        let code = issued();
        let spa = client("spa");
        let ok =
            |uri, verifier, now| check_redemption(&code.record, &spa, uri, verifier, UnixTime(now));
        assert_eq!(
            ok(Some("https://a.example/cb"), Some(VERIFIER), 159),
            Ok(())
        );
        let invalid = |r: Result<(), TokenError>| matches!(r, Err(TokenError::InvalidGrant(_)));
        assert!(
            invalid(ok(Some("https://a.example/cb"), Some(VERIFIER), 160)),
            "expired"
        );
        assert!(
            invalid(ok(None, Some(VERIFIER), 120)),
            "redirect_uri must be repeated"
        );
        assert!(invalid(ok(
            Some("https://a.example/cb/"),
            Some(VERIFIER),
            120
        )));
        assert!(
            invalid(ok(Some("https://a.example/cb"), None, 120)),
            "PKCE is mandatory"
        );
        assert!(invalid(ok(
            Some("https://a.example/cb"),
            Some(CHALLENGE),
            120
        )));
        let other = client("other");
        assert!(invalid(check_redemption(
            &code.record,
            &other,
            Some("https://a.example/cb"),
            Some(VERIFIER),
            UnixTime(120)
        )));
    }
}
