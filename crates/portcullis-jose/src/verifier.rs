//! JWS verification against a key set with an algorithm allow-list.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm as JwtAlg, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

use crate::{ClaimsPolicy, Error, strict_json};

/// A token whose signature and claims were checked.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The protected header, as sent.
    pub header: Map<String, Value>,
    /// The claims, as sent.
    pub claims: Map<String, Value>,
    /// The `kid` of the key that verified the signature, if it had one.
    pub kid: Option<String>,
}

#[derive(Clone)]
struct VerifyingKey {
    kid: Option<String>,
    algorithms: Vec<JwtAlg>,
    key: DecodingKey,
}

/// Verifies compact JWS tokens against a fixed set of public keys.
///
/// Each key accepts only the algorithms of its own type (its JWK `alg` when
/// present): `none` is never accepted, and an HMAC algorithm is never checked
/// with a public key. Unknown `crit` extensions are refused.
///
/// ```
/// use portcullis_jose::{Algorithm, ClaimsPolicy, Error, SigningKey, Verifier};
/// let key = SigningKey::generate(Algorithm::EdDSA)?;
/// let token = key.sign_jwt("JWT", &serde_json::json!({"exp": 10}))?;
/// let verifier = Verifier::from_jwks(&key.public_jwks())?;
/// assert!(verifier.verify(&token, &ClaimsPolicy::times_only(), 5).is_ok());
/// assert_eq!(verifier.verify(&token, &ClaimsPolicy::times_only(), 50).unwrap_err(), Error::Expired);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<VerifyingKey>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field(
                "kids",
                &self
                    .keys
                    .iter()
                    .map(|k| k.kid.as_deref())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The most bytes a token may have before it is refused unparsed.
const MAX_TOKEN_LEN: usize = 16 * 1024;

impl Verifier {
    /// Builds a verifier from the public keys of a JWKS. Keys that are not
    /// for signatures (`use: enc`) or of an unsupported type are skipped;
    /// symmetric (`oct`) keys are skipped too.
    pub fn from_jwks(jwks: &JwkSet) -> Result<Self, Error> {
        let keys: Vec<_> = jwks.keys.iter().filter_map(verifying_key).collect();
        if keys.is_empty() {
            return Err(Error::NoKeys);
        }
        Ok(Verifier { keys })
    }

    /// Builds a verifier for tokens signed with a shared secret (HS256,
    /// HS384, HS512), as microservices sharing one key do.
    ///
    /// ```
    /// use portcullis_jose::{ClaimsPolicy, Verifier};
    /// let verifier = Verifier::hmac(b"a shared secret of at least 32 bytes!!");
    /// assert!(verifier.verify("e30.e30.AAAA", &ClaimsPolicy::times_only(), 0).is_err());
    /// ```
    pub fn hmac(secret: &[u8]) -> Self {
        Verifier {
            keys: vec![VerifyingKey {
                kid: None,
                algorithms: vec![JwtAlg::HS256, JwtAlg::HS384, JwtAlg::HS512],
                key: DecodingKey::from_secret(secret),
            }],
        }
    }

    /// Builds a verifier from a PEM public key (RSA, EC P-256/P-384 or Ed25519,
    /// `BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    ///
    /// ```
    /// use portcullis_jose::Verifier;
    /// assert!(Verifier::from_pem(b"not pem").is_err());
    /// ```
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let candidates = [
            (DecodingKey::from_rsa_pem(pem), rsa_family()),
            (
                DecodingKey::from_ec_pem(pem),
                vec![JwtAlg::ES256, JwtAlg::ES384],
            ),
            (DecodingKey::from_ed_pem(pem), vec![JwtAlg::EdDSA]),
        ];
        let (key, algorithms) = candidates
            .into_iter()
            .find_map(|(key, algs)| key.ok().map(|k| (k, algs)))
            .ok_or(Error::InvalidKey(
                "not a PEM public key (RSA, EC or Ed25519)",
            ))?;
        Ok(Verifier {
            keys: vec![VerifyingKey {
                kid: None,
                algorithms,
                key,
            }],
        })
    }

    /// The key ids this verifier knows.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref())
    }

    /// Verifies the signature of `token`, then its claims under `policy` at
    /// time `now` (Unix seconds).
    pub fn verify(&self, token: &str, policy: &ClaimsPolicy, now: i64) -> Result<Verified, Error> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(Error::Malformed("token too large"));
        }
        let mut parts = token.split('.');
        let (Some(header_b64), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::Malformed("a JWS has three parts"));
        };
        let header_bytes = URL_SAFE_NO_PAD
            .decode(header_b64)
            .map_err(|_| Error::Malformed("header is not base64url"))?;
        let header = strict_json::object(&header_bytes).ok_or(Error::Malformed(
            "header is not a JSON object with unique member names",
        ))?;
        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(Error::Malformed("header has no alg"))?;
        let alg: JwtAlg = alg_name
            .parse()
            .map_err(|_| Error::AlgorithmNotAllowed(alg_name.to_owned()))?;
        if header.contains_key("crit") {
            return Err(Error::Malformed("unsupported critical header extension"));
        }
        if !policy.accepts_type(header.get("typ").and_then(Value::as_str)) {
            return Err(Error::WrongType);
        }
        let kid = header.get("kid").and_then(Value::as_str);
        let candidates: Vec<&VerifyingKey> = self
            .keys
            .iter()
            // A key without `kid` is a candidate for any token (RFC 7517 makes `kid` optional).
            .filter(|k| kid.is_none() || k.kid.is_none() || k.kid.as_deref() == kid)
            .collect();
        if candidates.is_empty() {
            return Err(Error::NoMatchingKey);
        }
        let candidates: Vec<_> = candidates
            .into_iter()
            .filter(|k| k.algorithms.contains(&alg))
            .collect();
        if candidates.is_empty() {
            return Err(Error::AlgorithmNotAllowed(alg_name.to_owned()));
        }
        let mut validation = Validation::new(alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let mut last = Error::InvalidSignature;
        for key in candidates {
            match jsonwebtoken::decode::<Map<String, Value>>(token, &key.key, &validation) {
                Ok(data) => {
                    check_claims_unique(token)?;
                    policy.validate(&data.claims, now)?;
                    return Ok(Verified {
                        header,
                        claims: data.claims,
                        kid: key.kid.clone(),
                    });
                }
                Err(err) => {
                    last = match err.kind() {
                        ErrorKind::InvalidSignature => Error::InvalidSignature,
                        ErrorKind::InvalidAlgorithm => {
                            Error::AlgorithmNotAllowed(alg_name.to_owned())
                        }
                        ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                            Error::Malformed("claims are not a JSON object")
                        }
                        ErrorKind::Base64(_) => Error::Malformed("a part is not base64url"),
                        _ => Error::Malformed("token could not be decoded"),
                    }
                }
            }
        }
        Err(last)
    }
}

/// Refuses a payload with duplicate claim names (serde_json would keep the last).
fn check_claims_unique(token: &str) -> Result<(), Error> {
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| Error::Malformed("claims are not base64url"))?;
    strict_json::object(&bytes)
        .map(|_| ())
        .ok_or(Error::Malformed(
            "claims are not a JSON object with unique member names",
        ))
}

fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    if matches!(
        jwk.common.public_key_use,
        Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
    ) {
        return None;
    }
    let family: Vec<JwtAlg> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => rsa_family(),
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![JwtAlg::ES256],
            EllipticCurve::P384 => vec![JwtAlg::ES384],
            _ => return None,
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            vec![JwtAlg::EdDSA]
        }
        _ => return None,
    };
    let algorithms = match jwk.common.key_algorithm {
        None => family,
        Some(declared) => {
            let declared = key_algorithm_to_jwt(declared)?;
            if !family.contains(&declared) {
                return None;
            }
            vec![declared]
        }
    };
    Some(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        algorithms,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

fn rsa_family() -> Vec<JwtAlg> {
    vec![
        JwtAlg::RS256,
        JwtAlg::RS384,
        JwtAlg::RS512,
        JwtAlg::PS256,
        JwtAlg::PS384,
        JwtAlg::PS512,
    ]
}

fn key_algorithm_to_jwt(alg: KeyAlgorithm) -> Option<JwtAlg> {
    Some(match alg {
        KeyAlgorithm::RS256 => JwtAlg::RS256,
        KeyAlgorithm::RS384 => JwtAlg::RS384,
        KeyAlgorithm::RS512 => JwtAlg::RS512,
        KeyAlgorithm::PS256 => JwtAlg::PS256,
        KeyAlgorithm::PS384 => JwtAlg::PS384,
        KeyAlgorithm::PS512 => JwtAlg::PS512,
        KeyAlgorithm::ES256 => JwtAlg::ES256,
        KeyAlgorithm::ES384 => JwtAlg::ES384,
        KeyAlgorithm::EdDSA => JwtAlg::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, SigningKey};
    use serde_json::json;

    fn claims() -> Value {
        json!({"iss": "https://id", "aud": "api", "sub": "s", "iat": 100, "exp": 200})
    }

    fn policy() -> ClaimsPolicy {
        ClaimsPolicy::new("https://id", ["api"])
    }

    #[test]
    fn tokens_of_every_algorithm_verify_with_their_jwk() {
        for alg in Algorithm::ALL {
            let key = SigningKey::generate(alg).expect("key");
            let token = key.sign_jwt("at+jwt", &claims()).expect("sign");
            let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
            let verified = verifier.verify(&token, &policy(), 150).expect("verify");
            assert_eq!(verified.claims["sub"], "s", "{alg}");
            assert_eq!(verified.kid.as_deref(), Some(key.kid()));
        }
    }

    #[test]
    fn a_token_signed_by_another_key_is_refused() {
        let key = SigningKey::generate(Algorithm::ES256).expect("key");
        let other = SigningKey::generate(Algorithm::ES256).expect("key");
        let token = other.sign_jwt("JWT", &claims()).expect("sign");
        let mut jwks = key.public_jwks();
        // Same kid as the signer, wrong key material.
        jwks.keys[0].common.key_id = Some(other.kid().to_owned());
        let verifier = Verifier::from_jwks(&jwks).expect("verifier");
        assert_eq!(
            verifier.verify(&token, &policy(), 150).unwrap_err(),
            Error::InvalidSignature
        );
    }

    #[test]
    fn alg_none_is_refused() {
        let key = SigningKey::generate(Algorithm::RS256).expect("key");
        let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        let token = format!("{header}.{body}.");
        assert_eq!(
            verifier.verify(&token, &policy(), 150).unwrap_err(),
            Error::AlgorithmNotAllowed("none".into())
        );
    }

    #[test]
    fn hmac_with_the_public_key_as_secret_is_refused() {
        let key = SigningKey::generate(Algorithm::RS256).expect("key");
        let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, key.kid()));
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        let signing_input = format!("{header}.{body}");
        let n = serde_json::to_string(key.public_jwk()).expect("jwk");
        let tag = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, n.as_bytes()),
            signing_input.as_bytes(),
        );
        let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
        assert_eq!(
            verifier.verify(&token, &policy(), 150).unwrap_err(),
            Error::AlgorithmNotAllowed("HS256".into())
        );
    }

    #[test]
    fn required_type_is_enforced() {
        let key = SigningKey::generate(Algorithm::EdDSA).expect("key");
        let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
        let token = key.sign_jwt("JWT", &claims()).expect("sign");
        let policy = policy().require_type("at+jwt");
        assert_eq!(
            verifier.verify(&token, &policy, 150).unwrap_err(),
            Error::WrongType
        );
    }

    #[test]
    fn unknown_kid_has_no_matching_key() {
        let key = SigningKey::generate(Algorithm::EdDSA).expect("key");
        let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"../../dev/null"}"#);
        let token = format!("{header}.e30.AAAA");
        assert_eq!(
            verifier.verify(&token, &policy(), 150).unwrap_err(),
            Error::NoMatchingKey
        );
    }

    #[test]
    fn duplicate_header_or_claim_names_are_refused() {
        let key = SigningKey::generate(Algorithm::EdDSA).expect("key");
        let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
        let header = format!(r#"{{"alg":"EdDSA","kid":"{}","alg":"EdDSA"}}"#, key.kid());
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims().to_string())
        );
        let token = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).expect("sign"))
        );
        assert!(matches!(
            verifier.verify(&token, &policy(), 150),
            Err(Error::Malformed(_))
        ));

        let header = format!(r#"{{"alg":"EdDSA","kid":"{}"}}"#, key.kid());
        let body = r#"{"iss":"https://id","aud":"api","exp":200,"sub":"a","sub":"admin"}"#;
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(body)
        );
        let token = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).expect("sign"))
        );
        assert!(matches!(
            verifier.verify(&token, &policy(), 150),
            Err(Error::Malformed(_))
        ));
    }

    #[test]
    fn hmac_tokens_verify_with_the_shared_secret_only() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(JwtAlg::HS256),
            &claims(),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .expect("encode");
        assert!(
            Verifier::hmac(secret)
                .verify(&token, &policy(), 150)
                .is_ok()
        );
        assert_eq!(
            Verifier::hmac(b"another secret entirely, 32 bytes")
                .verify(&token, &policy(), 150)
                .unwrap_err(),
            Error::InvalidSignature
        );
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        let key = SigningKey::generate(Algorithm::ES256).expect("key");
        let verifier = Verifier::from_jwks(&key.public_jwks()).expect("verifier");
        for token in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            "!!!.???.***",
            "e30.e30.e30",
        ] {
            assert!(matches!(
                verifier.verify(token, &policy(), 150),
                Err(Error::Malformed(_) | Error::AlgorithmNotAllowed(_))
            ));
        }
    }
}
