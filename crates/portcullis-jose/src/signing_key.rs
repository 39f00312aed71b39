//! Private keys parsed once, public JWKs, and JWS compact signing.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair as _, RsaKeyPair,
};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, RSAKeyParameters, RSAKeyType, ThumbprintHash,
};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::{Algorithm, Error, b64};

/// A private key in PKCS#8 DER, wiped from memory when dropped; its `Debug`
/// never shows the bytes.
///
/// ```
/// use portcullis_jose::{Algorithm, SigningKey};
/// let der = SigningKey::generate(Algorithm::EdDSA)?.to_pkcs8()?;
/// assert_eq!(format!("{der:?}"), "Pkcs8Der([redacted])");
/// # Ok::<(), portcullis_jose::Error>(())
/// ```
pub struct Pkcs8Der(Zeroizing<Vec<u8>>);

impl Pkcs8Der {
    /// Wraps DER bytes read from storage.
    pub fn new(der: Vec<u8>) -> Self {
        Pkcs8Der(Zeroizing::new(der))
    }

    /// The DER bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Pkcs8Der {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pkcs8Der([redacted])")
    }
}

enum Pair {
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A signing key pair, parsed once, with its algorithm, public JWK and `kid`
/// (the RFC 7638 SHA-256 thumbprint of the public JWK).
///
/// ```
/// use portcullis_jose::{Algorithm, SigningKey};
/// let key = SigningKey::generate(Algorithm::RS256)?;
/// let again = SigningKey::from_pkcs8(Algorithm::RS256, &key.to_pkcs8()?)?;
/// assert_eq!(key.kid(), again.kid());
/// assert_eq!(key.public_jwk().common.key_id.as_deref(), Some(key.kid()));
/// # Ok::<(), portcullis_jose::Error>(())
/// ```
pub struct SigningKey {
    alg: Algorithm,
    pair: Pair,
    kid: String,
    jwk: Jwk,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key: RSA-2048 for RS256/PS256, P-256 for ES256,
    /// P-384 for ES384, Ed25519 for EdDSA.
    ///
    /// ```
    /// use portcullis_jose::{Algorithm, SigningKey};
    /// let key = SigningKey::generate(Algorithm::ES384)?;
    /// assert_eq!(key.alg(), Algorithm::ES384);
    /// # Ok::<(), portcullis_jose::Error>(())
    /// ```
    pub fn generate(alg: Algorithm) -> Result<Self, Error> {
        let failed = |_| Error::InvalidKey("key generation failed");
        let pair = match alg {
            Algorithm::RS256 | Algorithm::PS256 => Pair::Rsa(
                RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?,
                rsa_encoding(alg),
            ),
            Algorithm::ES256 => Pair::Ecdsa(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?,
            ),
            Algorithm::ES384 => Pair::Ecdsa(
                EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).map_err(failed)?,
            ),
            Algorithm::EdDSA => Pair::Ed25519(Ed25519KeyPair::generate().map_err(failed)?),
        };
        Self::from_pair(alg, pair)
    }

    /// Parses an unencrypted PKCS#8 private key for `alg`.
    ///
    /// ```
    /// use portcullis_jose::{Algorithm, SigningKey};
    /// let der = SigningKey::generate(Algorithm::ES256)?.to_pkcs8()?;
    /// assert!(SigningKey::from_pkcs8(Algorithm::ES256, &der).is_ok());
    /// assert!(SigningKey::from_pkcs8(Algorithm::ES384, &der).is_err());
    /// # Ok::<(), portcullis_jose::Error>(())
    /// ```
    pub fn from_pkcs8(alg: Algorithm, der: &Pkcs8Der) -> Result<Self, Error> {
        Self::from_pkcs8_bytes(alg, der.as_bytes())
    }

    /// Like [`SigningKey::from_pkcs8`], from plain bytes.
    ///
    /// ```
    /// use portcullis_jose::{Algorithm, SigningKey};
    /// assert!(SigningKey::from_pkcs8_bytes(Algorithm::EdDSA, b"not a key").is_err());
    /// ```
    pub fn from_pkcs8_bytes(alg: Algorithm, der: &[u8]) -> Result<Self, Error> {
        let rejected = |_| Error::InvalidKey("not a PKCS#8 key for this algorithm");
        let pair = match alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                let pair = RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
                if pair.public_modulus_len() < 256 {
                    return Err(Error::InvalidKey("RSA keys must have at least 2048 bits"));
                }
                Pair::Rsa(pair, rsa_encoding(alg))
            }
            Algorithm::ES256 => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            Algorithm::ES384 => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            Algorithm::EdDSA => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
        };
        Self::from_pair(alg, pair)
    }

    fn from_pair(alg: Algorithm, pair: Pair) -> Result<Self, Error> {
        let algorithm = match &pair {
            Pair::Rsa(pair, _) => {
                let public = pair.public_key();
                AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: b64::encode(public.modulus().big_endian_without_leading_zero()),
                    e: b64::encode(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Pair::Ecdsa(pair) => {
                // Uncompressed SEC1 point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let coordinate = (point.len() - 1) / 2;
                AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: if alg == Algorithm::ES256 {
                        EllipticCurve::P256
                    } else {
                        EllipticCurve::P384
                    },
                    x: b64::encode(&point[1..=coordinate]),
                    y: b64::encode(&point[1 + coordinate..]),
                })
            }
            Pair::Ed25519(pair) => AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: b64::encode(pair.public_key().as_ref()),
            }),
        };
        let mut jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(key_algorithm(alg)),
                ..CommonParameters::default()
            },
            algorithm,
        };
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|_| Error::InvalidKey("cannot compute the JWK thumbprint"))?;
        jwk.common.key_id = Some(kid.clone());
        Ok(SigningKey {
            alg,
            pair,
            kid,
            jwk,
            rng: SystemRandom::new(),
        })
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The key id: the RFC 7638 thumbprint of the public JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK, with `kid`, `alg` and `use: sig`.
    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// A key set holding only this key's public JWK.
    ///
    /// ```
    /// use portcullis_jose::{Algorithm, SigningKey};
    /// let key = SigningKey::generate(Algorithm::EdDSA)?;
    /// assert_eq!(key.public_jwks().keys.len(), 1);
    /// # Ok::<(), portcullis_jose::Error>(())
    /// ```
    pub fn public_jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk.clone()],
        }
    }

    /// The private key as PKCS#8 DER, for sealed storage.
    pub fn to_pkcs8(&self) -> Result<Pkcs8Der, Error> {
        let failed = |_| Error::InvalidKey("cannot serialize the private key");
        let der = match &self.pair {
            Pair::Rsa(pair, _) => {
                let der = pair.as_der().map_err(failed)?;
                der.as_ref().to_vec()
            }
            Pair::Ecdsa(pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Pair::Ed25519(pair) => pair.to_pkcs8().map_err(failed)?.as_ref().to_vec(),
        };
        Ok(Pkcs8Der::new(der))
    }

    /// Signs `message` and returns the raw JWS signature
    /// (PKCS#1/PSS bytes, `r || s` for ECDSA, 64 bytes for Ed25519).
    ///
    /// ```
    /// use portcullis_jose::{Algorithm, SigningKey};
    /// let key = SigningKey::generate(Algorithm::ES256)?;
    /// assert_eq!(key.sign(b"hello")?.len(), 64);
    /// # Ok::<(), portcullis_jose::Error>(())
    /// ```
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.pair {
            Pair::Rsa(pair, encoding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(*encoding, &self.rng, message, &mut signature)
                    .map_err(|_| Error::Signing)?;
                Ok(signature)
            }
            Pair::Ecdsa(pair) => Ok(pair
                .sign(&self.rng, message)
                .map_err(|_| Error::Signing)?
                .as_ref()
                .to_vec()),
            Pair::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }

    /// Signs `claims` as a compact JWT whose protected header is
    /// `{"alg", "kid", "typ"}`.
    ///
    /// ```
    /// use portcullis_jose::{Algorithm, SigningKey};
    /// let key = SigningKey::generate(Algorithm::EdDSA)?;
    /// let token = key.sign_jwt("JWT", &serde_json::json!({"sub": "a"}))?;
    /// assert_eq!(token.split('.').count(), 3);
    /// # Ok::<(), portcullis_jose::Error>(())
    /// ```
    pub fn sign_jwt<C: Serialize + ?Sized>(&self, typ: &str, claims: &C) -> Result<String, Error> {
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'static str,
            kid: &'a str,
            typ: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            kid: &self.kid,
            typ,
        })
        .map_err(|_| Error::Signing)?;
        let claims = serde_json::to_vec(claims).map_err(|_| Error::Signing)?;
        let mut token = String::with_capacity((header.len() + claims.len()) * 4 / 3 + 360);
        b64::encode_into(&header, &mut token);
        token.push('.');
        b64::encode_into(&claims, &mut token);
        let signature = self.sign(token.as_bytes())?;
        token.push('.');
        b64::encode_into(&signature, &mut token);
        Ok(token)
    }
}

fn rsa_encoding(alg: Algorithm) -> &'static dyn signature::RsaEncoding {
    if alg == Algorithm::PS256 {
        &signature::RSA_PSS_SHA256
    } else {
        &signature::RSA_PKCS1_SHA256
    }
}

fn key_algorithm(alg: Algorithm) -> KeyAlgorithm {
    match alg {
        Algorithm::RS256 => KeyAlgorithm::RS256,
        Algorithm::PS256 => KeyAlgorithm::PS256,
        Algorithm::ES256 => KeyAlgorithm::ES256,
        Algorithm::ES384 => KeyAlgorithm::ES384,
        Algorithm::EdDSA => KeyAlgorithm::EdDSA,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_round_trips_through_pkcs8_with_a_stable_kid() {
        for alg in Algorithm::ALL {
            let key = SigningKey::generate(alg).expect("generate");
            let der = key.to_pkcs8().expect("pkcs8");
            let again = SigningKey::from_pkcs8(alg, &der).expect("parse");
            assert_eq!(key.kid(), again.kid(), "{alg}");
            assert_eq!(key.public_jwk(), again.public_jwk(), "{alg}");
        }
    }

    #[test]
    fn a_key_does_not_parse_as_another_family() {
        let ec = SigningKey::generate(Algorithm::ES256)
            .expect("generate")
            .to_pkcs8()
            .expect("der");
        assert!(SigningKey::from_pkcs8(Algorithm::RS256, &ec).is_err());
        assert!(SigningKey::from_pkcs8(Algorithm::EdDSA, &ec).is_err());
    }

    #[test]
    fn jwk_publishes_no_private_parameter() {
        for alg in Algorithm::ALL {
            let key = SigningKey::generate(alg).expect("generate");
            let json = serde_json::to_value(key.public_jwk()).expect("json");
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(json.get(private).is_none(), "{alg} leaks {private}");
            }
            assert_eq!(json["alg"], alg.as_str());
            assert_eq!(json["use"], "sig");
        }
    }
}
