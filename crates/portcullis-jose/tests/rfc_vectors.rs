//! The published test vectors that apply to a JWT signer and verifier:
//! RFC 7515 appendix A (JWS examples), RFC 8037 appendix A (Ed25519) and
//! RFC 7638 section 3.1 (JWK thumbprint).
//!
//! RFC 7520's JWS examples sign a non-JSON text or use P-521 (ES512), so they
//! exercise nothing a JWT verifier accepts; they are not repeated here.

#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_jose::{Algorithm, ClaimsPolicy, Error, JwkSet, SigningKey, Verifier};
use serde_json::json;

/// RFC 7515 A.1-A.3: `{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}`.
const PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
/// A time before the examples' `exp`.
const BEFORE_EXP: i64 = 1_300_819_000;
/// A time after it.
const AFTER_EXP: i64 = 1_300_819_381;

const A2_N: &str = concat!(
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx",
    "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs",
    "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH",
    "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV",
    "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8",
    "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
);
const A2_SIGNATURE: &str = concat!(
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7",
    "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4",
    "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K",
    "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv",
    "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB",
    "p0igcN_IoypGlUPQGe77Rw"
);

const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const A3_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 8037 A.1: the Ed25519 private key (seed) and public key.
const ED_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 A.4: the signing input and its signature.
const ED_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const ED_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

fn jwks(keys: serde_json::Value) -> JwkSet {
    serde_json::from_value(json!({ "keys": [keys] })).unwrap()
}

fn times_only() -> ClaimsPolicy {
    ClaimsPolicy::times_only().leeway(0)
}

#[test]
fn rfc7515_a1_hs256_verifies_with_the_shared_key() {
    let key = URL_SAFE_NO_PAD
        .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
        .unwrap();
    // `{"typ":"JWT",\r\n "alg":"HS256"}`
    let token = format!(
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.{PAYLOAD}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    );
    let verified = Verifier::hmac(&key)
        .verify(&token, &times_only(), BEFORE_EXP)
        .unwrap();
    assert_eq!(verified.claims["iss"], "joe");
    assert_eq!(verified.claims["http://example.com/is_root"], true);
    assert_eq!(
        Verifier::hmac(&key)
            .verify(&token, &times_only(), AFTER_EXP)
            .unwrap_err(),
        Error::Expired
    );
    assert_eq!(
        Verifier::hmac(b"another key")
            .verify(&token, &times_only(), BEFORE_EXP)
            .unwrap_err(),
        Error::InvalidSignature
    );
}

#[test]
fn rfc7515_a2_rs256_verifies_with_the_published_key() {
    let verifier =
        Verifier::from_jwks(&jwks(json!({"kty": "RSA", "n": A2_N, "e": "AQAB"}))).unwrap();
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{PAYLOAD}.{A2_SIGNATURE}");
    let verified = verifier.verify(&token, &times_only(), BEFORE_EXP).unwrap();
    assert_eq!(verified.claims["exp"], 1_300_819_380);

    // One flipped bit in the signature, or a claim changed, and it fails.
    let mut signature = URL_SAFE_NO_PAD.decode(A2_SIGNATURE).unwrap();
    signature[10] ^= 1;
    let forged = format!(
        "eyJhbGciOiJSUzI1NiJ9.{PAYLOAD}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    );
    assert_eq!(
        verifier
            .verify(&forged, &times_only(), BEFORE_EXP)
            .unwrap_err(),
        Error::InvalidSignature
    );
    let other_claims = URL_SAFE_NO_PAD
        .encode(r#"{"iss":"joe","exp":1300819380,"http://example.com/is_root":true}"#);
    let forged = format!("eyJhbGciOiJSUzI1NiJ9.{other_claims}.{A2_SIGNATURE}");
    assert_eq!(
        verifier
            .verify(&forged, &times_only(), BEFORE_EXP)
            .unwrap_err(),
        Error::InvalidSignature
    );
}

#[test]
fn rfc7515_a3_es256_verifies_with_the_published_key() {
    let verifier = Verifier::from_jwks(&jwks(
        json!({"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y}),
    ))
    .unwrap();
    let token = format!("eyJhbGciOiJFUzI1NiJ9.{PAYLOAD}.{A3_SIGNATURE}");
    let verified = verifier.verify(&token, &times_only(), BEFORE_EXP).unwrap();
    assert_eq!(verified.claims["iss"], "joe");

    // The same signature presented as RS256 or HS256 is refused before any check.
    for alg in ["RS256", "HS256"] {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#));
        let token = format!("{header}.{PAYLOAD}.{A3_SIGNATURE}");
        assert_eq!(
            verifier
                .verify(&token, &times_only(), BEFORE_EXP)
                .unwrap_err(),
            Error::AlgorithmNotAllowed(alg.into())
        );
    }
}

/// RFC 8037 A.1's key as PKCS#8 v1 (RFC 8410): the fixed prefix, then the seed.
fn rfc8037_key() -> SigningKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend(URL_SAFE_NO_PAD.decode(ED_D).unwrap());
    SigningKey::from_pkcs8_bytes(Algorithm::EdDSA, &der).unwrap()
}

#[test]
fn rfc8037_a2_a3_public_key_and_thumbprint() {
    let key = rfc8037_key();
    let jwk = serde_json::to_value(key.public_jwk()).unwrap();
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["x"], ED_X, "A.2: the public key");
    assert_eq!(jwk.get("d"), None, "no private part is published");
    // A.3: the thumbprint, which Portcullis uses as the `kid`.
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn rfc8037_a4_a5_ed25519_signature() {
    let key = rfc8037_key();
    // A.4: Ed25519 is deterministic, so the signature is the RFC's, byte for byte.
    let signature = key.sign(ED_INPUT.as_bytes()).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.encode(&signature), ED_SIGNATURE);

    // A.5: it verifies under the public key; the RFC's payload is a sentence,
    // so check a claim set signed the same way too.
    let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"rfc8037","exp":2000}"#);
    let input = format!("eyJhbGciOiJFZERTQSJ9.{claims}");
    let signature = URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).unwrap());
    let verifier =
        Verifier::from_jwks(&jwks(json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X}))).unwrap();
    let verified = verifier
        .verify(&format!("{input}.{signature}"), &times_only(), 1000)
        .unwrap();
    assert_eq!(verified.claims["sub"], "rfc8037");
    // The RFC's own token is a valid signature over a payload that is not a claim set.
    assert!(matches!(
        verifier.verify(&format!("{ED_INPUT}.{ED_SIGNATURE}"), &times_only(), 1000),
        Err(Error::Malformed(_))
    ));
}

#[test]
fn rfc7638_thumbprint_of_the_example_rsa_key() {
    let n = concat!(
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W",
        "-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08q",
        "NLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    );
    let set = jwks(json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}));
    let thumbprint = set.keys[0]
        .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .unwrap();
    assert_eq!(thumbprint, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}
