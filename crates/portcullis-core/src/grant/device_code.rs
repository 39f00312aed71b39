//! The device authorization grant (RFC 8628): a client without a browser
//! (a CLI, a TV, an agent) gets a device code and a short user code; the
//! user enters the user code on `/device`, signed in on any browser, and
//! approves or denies; the client polls `/token` with the device code until
//! the decision, and redeems it once.
//!
//! Both codes are stored only as SHA-256 hashes. The user code is 8 letters
//! from 20 consonants (34 bits, no vowels so it spells no words, no digits
//! to confuse with letters), typed in any case with or without its dash;
//! entries on the device page are throttled like passwords, so guessing one
//! of the few live codes is hopeless.

use crate::access_token::AccessTokenGrant;
use crate::grant::{
    Decided, GrantError, Grants, Issuance, id_token_for, live_until, refresh_token, settle,
};
pub use crate::store::{DeviceDecision, DevicePollStep, DeviceRecord};
use crate::store::{FamilyStep, Store};
use crate::throttle::Throttle;
use crate::token_hash::TokenHash;
use crate::user::UserId;
use crate::{
    Client, GrantType, Resource, ScopeSet, Seconds, StoreError, TokenError, UnixTime, random,
};

/// The letters of a user code (RFC 8628 6.1: consonants only).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// How many letters a user code has.
pub const USER_CODE_LENGTH: usize = 8;

/// How the device grant is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevicePolicy {
    /// How long a device code waits for the user.
    pub lifetime: Seconds,
    /// The least time between two polls, at first.
    pub interval: Seconds,
}

impl Default for DevicePolicy {
    /// Ten minutes to decide, polls every 5 seconds (RFC 8628's default).
    fn default() -> Self {
        DevicePolicy {
            lifetime: Seconds(600),
            interval: Seconds(5),
        }
    }
}

/// What a slow_down adds to the interval (RFC 8628 3.5).
pub const SLOW_DOWN_STEP: Seconds = Seconds(5);

/// A user code in its normalized form: 8 letters of [`USER_CODE_ALPHABET`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    /// A new random user code.
    pub fn generate() -> Self {
        // 240 is the largest multiple of 20 in a byte: bytes above it are
        // dropped, so every letter is equally likely.
        let mut code = String::with_capacity(USER_CODE_LENGTH);
        while code.len() < USER_CODE_LENGTH {
            for byte in random::bytes::<16>() {
                if byte < 240 && code.len() < USER_CODE_LENGTH {
                    code.push(char::from(USER_CODE_ALPHABET[usize::from(byte % 20)]));
                }
            }
        }
        UserCode(code)
    }

    /// A code as a person typed it: any case, dashes and spaces ignored.
    pub fn parse(typed: &str) -> Option<Self> {
        let code: String = typed
            .chars()
            .filter(|c| *c != '-' && !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let ok =
            code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
        ok.then_some(UserCode(code))
    }

    /// The code as shown: `BCDF-GHJK`.
    pub fn shown(&self) -> String {
        let (first, second) = self.0.split_at(USER_CODE_LENGTH / 2);
        format!("{first}-{second}")
    }

    /// What is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

/// A device authorization to answer (once) and to store.
#[derive(Debug, Clone)]
pub struct StartedDeviceAuthorization {
    /// The device code: 256 random bits, for the client only.
    pub device_code: String,
    /// The user code, for the user to type.
    pub user_code: UserCode,
    /// What to store.
    pub record: DeviceRecord,
}

/// Starts a device authorization for `client` (RFC 8628 3.1): the
/// requested `scope` (by default everything the client may have) must be
/// one the client may ask for.
pub fn start(
    client: &Client,
    scope: Option<&str>,
    policy: &DevicePolicy,
    now: UnixTime,
) -> Result<StartedDeviceAuthorization, TokenError> {
    if !client.allows(GrantType::DeviceCode) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the device authorization grant",
        ));
    }
    let scope = match scope {
        None => client.scopes.clone(),
        Some(text) => ScopeSet::parse(text)
            .ok_or_else(|| TokenError::InvalidScope("the scope is malformed".into()))?,
    };
    if !scope.is_subset_of(&client.scopes) {
        return Err(TokenError::InvalidScope(
            "the scope exceeds what this client may ask for".into(),
        ));
    }
    let device_code = random::token::<32>();
    let user_code = UserCode::generate();
    Ok(StartedDeviceAuthorization {
        record: DeviceRecord {
            hash: TokenHash::of(&device_code),
            user_code: user_code.hash(),
            client_id: client.id.clone(),
            scope,
            issued_at: now,
            expires_at: now + policy.lifetime,
            interval: policy.interval,
            last_polled_at: None,
            decision: DeviceDecision::Pending,
        },
        device_code,
        user_code,
    })
}

/// Starts and stores a device authorization (RFC 8628 3.1). A user code
/// that happens to be taken by a live authorization is drawn again.
pub async fn begin(
    store: &dyn Store,
    client: &Client,
    scope: Option<&str>,
    policy: &DevicePolicy,
    now: UnixTime,
) -> Result<StartedDeviceAuthorization, GrantError> {
    let mut attempts = 0;
    loop {
        let started = start(client, scope, policy, now)?;
        match store.insert_device_authorization(&started.record).await {
            Ok(()) => return Ok(started),
            Err(StoreError::Conflict(_)) if attempts < 3 => attempts += 1,
            Err(err) => return Err(err.into()),
        }
    }
}

/// A token request polling with a device code (RFC 8628 3.4).
#[derive(Debug, Clone)]
pub struct DeviceTokenRequest {
    /// The device code.
    pub device_code: String,
    /// The requested resources (RFC 8707).
    pub resources: Vec<Resource>,
}

/// What a poll of an undecided, denied, expired or foreign device code
/// gets; `None` when it was approved for `client` and may be redeemed.
pub fn not_ready(record: &DeviceRecord, client: &Client, now: UnixTime) -> Option<DevicePollStep> {
    if record.client_id != client.id {
        return Some(DevicePollStep::Refuse(TokenError::InvalidGrant(
            "the device code was not issued to this client",
        )));
    }
    if now >= record.expires_at {
        return Some(DevicePollStep::Refuse(TokenError::ExpiredToken(
            "the device code has expired; start again",
        )));
    }
    match record.decision {
        DeviceDecision::Approved { .. } => None,
        DeviceDecision::Denied => Some(DevicePollStep::Refuse(TokenError::AccessDenied(
            "the user denied the request",
        ))),
        DeviceDecision::Pending => {
            let too_soon = record
                .last_polled_at
                .is_some_and(|last| now < last + record.interval);
            Some(if too_soon {
                DevicePollStep::Wait(
                    TokenError::SlowDown("polling too fast; wait 5 seconds longer between polls"),
                    Seconds(record.interval.0 + SLOW_DOWN_STEP.0),
                )
            } else {
                DevicePollStep::Wait(
                    TokenError::AuthorizationPending("the user has not decided yet"),
                    record.interval,
                )
            })
        }
    }
}

/// The device code grant: a poll until the user decides, then the code is
/// redeemed once, in one transaction with the family it starts and its
/// first refresh token. A code redeemed before revokes what it issued.
pub async fn issue(
    grants: &Grants<'_>,
    client: &Client,
    request: DeviceTokenRequest,
    now: UnixTime,
) -> Result<Issuance, GrantError> {
    if !client.allows(GrantType::DeviceCode) {
        return Err(TokenError::UnauthorizedClient(
            "this client may not use the device authorization grant",
        )
        .into());
    }
    let policy = grants.policy;
    let decided = Decided::new();
    let check = |record: &DeviceRecord| {
        if let Some(step) = not_ready(record, client, now) {
            return step;
        }
        let DeviceDecision::Approved { user, auth_time } = &record.decision else {
            return DevicePollStep::Refuse(TokenError::InvalidGrant(
                "the device code is not valid",
            ));
        };
        let access = match AccessTokenGrant::for_user(
            policy,
            client,
            user,
            record.scope.clone(),
            &request.resources,
            Some(&record.hash),
            now,
        ) {
            Ok(access) => access,
            Err(refused) => return DevicePollStep::Refuse(refused),
        };
        let refresh = refresh_token::offered(client, &record.scope).then(|| {
            refresh_token::first_of_family(
                record.hash,
                &client.id,
                user,
                record.scope.clone(),
                *auth_time,
                now,
                policy.refresh_token_lifetime,
            )
        });
        let step = FamilyStep {
            refresh: refresh.as_ref().map(|r| r.record.clone()),
            live_until: live_until(&access, refresh.as_ref()),
        };
        decided.keep((access, refresh.map(|r| r.token), user.clone(), *auth_time));
        DevicePollStep::Redeem(step)
    };
    let polled = grants
        .store
        .poll_device_code(&TokenHash::of(&request.device_code), now, &check)
        .await?;
    settle(
        polled,
        "the device code is not valid",
        "the device code has already been used",
    )?;
    let (access, refresh_token, user, auth_time) = decided.take("the device code is not valid")?;
    Ok(Issuance {
        issued_token_type: None,
        id_token: id_token_for(client, &user, &access.scope, auth_time, None),
        access: Some(access),
        refresh_token,
    })
}

/// What the device page found for a typed user code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A pending, unexpired authorization: ask the user.
    Found(UserCode, DeviceRecord),
    /// No such code, or one decided or expired.
    NotFound,
    /// Too many wrong codes: wait this many seconds.
    Throttled(i64),
}

/// Finds the pending device authorization a signed-in `user` typed the code
/// of. Every entry reserves an attempt first (per user and per address,
/// atomically), and only a code that exists gives it back: of parallel
/// guesses at most the limit are looked up.
pub async fn find(
    store: &dyn Store,
    throttle: &Throttle<'_>,
    user: &UserId,
    address: &str,
    typed: &str,
    now: UnixTime,
) -> Result<Lookup, StoreError> {
    if let Some(wait) = throttle
        .reserve_device_code(user.as_str(), address, now)
        .await?
    {
        return Ok(Lookup::Throttled(wait));
    }
    let Some(code) = UserCode::parse(typed) else {
        return Ok(Lookup::NotFound);
    };
    let Some(record) = store.device_authorization(&code.hash()).await? else {
        return Ok(Lookup::NotFound);
    };
    // A code that exists was no guess (a second click, a spent code
    // opened again): the attempt goes back, whatever its state.
    throttle
        .device_code_found(user.as_str(), address, now)
        .await?;
    if record.decision != DeviceDecision::Pending || now >= record.expires_at {
        return Ok(Lookup::NotFound);
    }
    Ok(Lookup::Found(code, record))
}

/// Records a signed-in user's decision on a device authorization; an
/// approval also records the consent, in the same transaction. `false`
/// when it is no longer pending (decided in another tab, or expired).
pub async fn decide(
    store: &dyn Store,
    code: &UserCode,
    user: &UserId,
    auth_time: UnixTime,
    allow: bool,
    now: UnixTime,
) -> Result<bool, StoreError> {
    let decision = if allow {
        DeviceDecision::Approved {
            user: user.clone(),
            auth_time,
        }
    } else {
        DeviceDecision::Denied
    };
    store
        .decide_device_authorization(&code.hash(), &decision, now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientId;

    fn client(id: &str) -> Client {
        Client {
            id: ClientId::parse(id).unwrap_or_else(|| unreachable!()),
            name: id.into(),
            secret_hash: None,
            grant_types: vec![GrantType::DeviceCode, GrantType::RefreshToken],
            scopes: ScopeSet::parse("openid offline_access courses:read").unwrap_or_default(),
            audiences: vec![],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            require_pkce: false,
            allow_impersonation: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            created_at: UnixTime(0),
        }
    }

    #[test]
    fn user_codes_are_eight_consonants_typed_any_way() {
        for _ in 0..500 {
            let code = UserCode::generate();
            assert_eq!(code.0.len(), USER_CODE_LENGTH);
            assert!(code.0.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
            let shown = code.shown();
            assert_eq!(shown.len(), 9);
            assert_eq!(UserCode::parse(&shown), Some(code.clone()));
            assert_eq!(UserCode::parse(&shown.to_lowercase()), Some(code.clone()));
            assert_eq!(UserCode::parse(&code.0.replace('-', " ")), Some(code));
        }
        assert_ne!(UserCode::generate(), UserCode::generate());
        for wrong in [
            "",
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "BCDF-GHJ1",
            "ABCD-EFGH",
            "BCDF_GHJK",
        ] {
            assert_eq!(UserCode::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn a_start_checks_the_grant_and_the_scope() {
        let tv = client("tv");
        let policy = DevicePolicy::default();
        let started =
            start(&tv, Some("openid"), &policy, UnixTime(100)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(started.record.expires_at, UnixTime(700));
        assert_eq!(started.record.interval, Seconds(5));
        assert_eq!(started.record.hash, TokenHash::of(&started.device_code));
        assert_eq!(started.record.user_code, started.user_code.hash());
        let all = start(&tv, None, &policy, UnixTime(100)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.record.scope, tv.scopes);
        let wide = start(&tv, Some("openid admin"), &policy, UnixTime(100));
        assert_eq!(wide.map(|_| ()).map_err(|e| e.code()), Err("invalid_scope"));
        let mut web = client("web");
        web.grant_types = vec![GrantType::AuthorizationCode];
        let refused = start(&web, None, &policy, UnixTime(100));
        assert_eq!(
            refused.map(|_| ()).map_err(|e| e.code()),
            Err("unauthorized_client")
        );
    }

    #[test]
    fn polls_wait_slow_down_expire_and_end_in_a_decision() {
        let tv = client("tv");
        let policy = DevicePolicy::default();
        let mut record = start(&tv, None, &policy, UnixTime(100))
            .unwrap_or_else(|e| panic!("{e}"))
            .record;
        let code = |step: Option<DevicePollStep>| match step {
            Some(DevicePollStep::Wait(e, interval)) => format!("{} {}", e.code(), interval.0),
            Some(DevicePollStep::Refuse(e)) => e.code().to_owned(),
            Some(DevicePollStep::Redeem(_)) => "redeem".to_owned(),
            None => "ready".to_owned(),
        };
        // The first poll may come at once; the next one waits the interval.
        assert_eq!(
            code(not_ready(&record, &tv, UnixTime(101))),
            "authorization_pending 5"
        );
        record.last_polled_at = Some(UnixTime(101));
        assert_eq!(code(not_ready(&record, &tv, UnixTime(104))), "slow_down 10");
        assert_eq!(
            code(not_ready(&record, &tv, UnixTime(106))),
            "authorization_pending 5"
        );
        assert_eq!(
            code(not_ready(&record, &client("other"), UnixTime(106))),
            "invalid_grant"
        );
        assert_eq!(
            code(not_ready(&record, &tv, UnixTime(700))),
            "expired_token"
        );
        record.decision = DeviceDecision::Denied;
        assert_eq!(
            code(not_ready(&record, &tv, UnixTime(106))),
            "access_denied"
        );
        record.decision = DeviceDecision::Approved {
            user: UserId::generate(),
            auth_time: UnixTime(90),
        };
        // An approved code is redeemed however fast the client polls.
        assert_eq!(code(not_ready(&record, &tv, UnixTime(102))), "ready");
        assert_eq!(
            code(not_ready(&record, &tv, UnixTime(700))),
            "expired_token"
        );
    }
}
