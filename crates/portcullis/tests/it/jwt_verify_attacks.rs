//! The attack battery against `portcullis jwt verify`: every forged or
//! out-of-policy token is refused with exit status 1 and one line naming the
//! reason, and nothing reaches standard output.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis_jose::{Algorithm, SigningKey};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const ISSUER: &str = "https://id.example";
const API: &str = "https://api.example";

struct Fixture {
    _dir: tempfile::TempDir,
    key: SigningKey,
    jwks_path: String,
    jwks_text: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::RS256).unwrap();
    let jwks_text = serde_json::to_string(&key.public_jwks()).unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, &jwks_text).unwrap();
    Fixture {
        jwks_path: path.display().to_string(),
        _dir: dir,
        key,
        jwks_text,
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    json!({"iss": ISSUER, "aud": API, "sub": "svc", "iat": now(), "exp": now() + 300})
}

fn header(key: &SigningKey) -> Value {
    json!({"alg": "RS256", "typ": "at+jwt", "kid": key.kid()})
}

fn signed(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    format!("{input}.{}", b64(key.sign(input.as_bytes()).unwrap()))
}

/// Runs `jwt verify` with the fixture's JWKS, issuer and audience; the token
/// goes through standard input (a 1 MB token does not fit in one argument).
fn verify(fixture: &Fixture, token: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "jwt",
        "verify",
        "--jwks",
        &fixture.jwks_path,
        "--iss",
        ISSUER,
        "--aud",
        API,
    ];
    args.extend_from_slice(extra);
    let mut child = Command::new(BIN)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The CLI may refuse before reading everything; a broken pipe is fine.
    let _ = stdin.write_all(token.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn assert_refused(fixture: &Fixture, token: &str, extra: &[&str], reason: &str) {
    let (code, stdout, stderr) = verify(fixture, token, extra);
    assert_eq!(code, 1, "stderr: {stderr}");
    assert_eq!(stdout, "", "nothing printed for a refused token");
    assert_eq!(stderr, format!("invalid: {reason}\n"));
}

#[test]
fn the_genuine_token_is_valid() {
    let f = fixture();
    let token = signed(&f.key, &header(&f.key), &claims());
    let (code, stdout, stderr) = verify(&f, &token, &["--typ", "at+jwt"]);
    assert_eq!(code, 0, "{stderr}");
    let out: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["claims"]["sub"], "svc");
    assert!(
        stderr.starts_with("valid: RS256 signature (kid "),
        "{stderr}"
    );
}

#[test]
fn alg_none_is_refused() {
    let f = fixture();
    let token = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "kid": f.key.kid()}).to_string()),
        b64(claims().to_string())
    );
    assert_refused(&f, &token, &[], "algorithm `none` is not allowed");
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let f = fixture();
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": f.key.kid()}).to_string()),
        b64(claims().to_string())
    );
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, f.jwks_text.as_bytes()),
        input.as_bytes(),
    );
    let token = format!("{input}.{}", b64(tag.as_ref()));
    assert_refused(&f, &token, &[], "algorithm `HS256` is not allowed");
}

#[test]
fn stripped_signature_is_refused() {
    let f = fixture();
    let token = signed(&f.key, &header(&f.key), &claims());
    let stripped = &token[..=token.rfind('.').unwrap()];
    assert_refused(&f, stripped, &[], "invalid signature");
}

#[test]
fn kid_pointing_at_an_unknown_key_is_refused() {
    let f = fixture();
    let mut h = header(&f.key);
    h["kid"] = json!("an-unknown-key");
    assert_refused(
        &f,
        &signed(&f.key, &h, &claims()),
        &[],
        "no key matches the token",
    );
}

#[test]
fn kid_with_a_path_is_refused() {
    let f = fixture();
    let mut h = header(&f.key);
    h["kid"] = json!("../../dev/null");
    assert_refused(
        &f,
        &signed(&f.key, &h, &claims()),
        &[],
        "no key matches the token",
    );
}

#[test]
fn kid_with_sql_is_refused() {
    let f = fixture();
    let mut h = header(&f.key);
    h["kid"] = json!("x' UNION SELECT 'secret' --");
    assert_refused(
        &f,
        &signed(&f.key, &h, &claims()),
        &[],
        "no key matches the token",
    );
}

#[test]
fn jku_x5u_and_jwk_headers_cannot_supply_a_key() {
    let f = fixture();
    let attacker = SigningKey::generate(Algorithm::RS256).unwrap();
    let h = json!({
        "alg": "RS256",
        "kid": f.key.kid(),
        "jku": "http://127.0.0.1:9/jwks.json",
        "x5u": "http://127.0.0.1:9/cert.pem",
        "jwk": attacker.public_jwk(),
    });
    assert_refused(
        &f,
        &signed(&attacker, &h, &claims()),
        &[],
        "invalid signature",
    );
}

#[test]
fn expired_is_refused() {
    let f = fixture();
    let mut c = claims();
    c["exp"] = json!(now() - 10);
    assert_refused(
        &f,
        &signed(&f.key, &header(&f.key), &c),
        &[],
        "token expired",
    );
}

#[test]
fn not_yet_valid_is_refused() {
    let f = fixture();
    let mut c = claims();
    c["nbf"] = json!(now() + 120);
    assert_refused(
        &f,
        &signed(&f.key, &header(&f.key), &c),
        &[],
        "token not valid yet",
    );
}

#[test]
fn wrong_issuer_is_refused() {
    let f = fixture();
    let mut c = claims();
    c["iss"] = json!("https://id.example.evil");
    assert_refused(
        &f,
        &signed(&f.key, &header(&f.key), &c),
        &[],
        "wrong issuer",
    );
}

#[test]
fn wrong_audience_is_refused() {
    let f = fixture();
    let mut c = claims();
    c["aud"] = json!("https://other.example");
    assert_refused(
        &f,
        &signed(&f.key, &header(&f.key), &c),
        &[],
        "wrong audience",
    );
}

#[test]
fn audience_array_without_ours_is_refused() {
    let f = fixture();
    let mut c = claims();
    c["aud"] = json!([
        "https://a.example",
        "https://api.example/",
        "https://api.example.evil"
    ]);
    assert_refused(
        &f,
        &signed(&f.key, &header(&f.key), &c),
        &[],
        "wrong audience",
    );
}

#[test]
fn unknown_crit_header_is_refused() {
    let f = fixture();
    let mut h = header(&f.key);
    h["crit"] = json!(["urn:example:must-understand"]);
    h["urn:example:must-understand"] = json!(true);
    assert_refused(
        &f,
        &signed(&f.key, &h, &claims()),
        &[],
        "malformed token: unsupported critical header extension",
    );
}

#[test]
fn a_one_megabyte_token_is_refused() {
    let f = fixture();
    let mut c = claims();
    c["padding"] = json!("A".repeat(1024 * 1024));
    assert_refused(
        &f,
        &signed(&f.key, &header(&f.key), &c),
        &[],
        "malformed token: token too large",
    );
}

#[test]
fn non_base64url_segments_are_refused() {
    let f = fixture();
    let token = signed(&f.key, &header(&f.key), &claims());
    let parts: Vec<&str> = token.split('.').collect();
    assert_refused(
        &f,
        &format!("{}+/.{}.{}", parts[0], parts[1], parts[2]),
        &[],
        "malformed token: header is not base64url",
    );
    let (code, stdout, stderr) =
        verify(&f, &format!("{}.{}*.{}", parts[0], parts[1], parts[2]), &[]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(stderr.starts_with("invalid: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn duplicate_header_keys_are_refused() {
    let f = fixture();
    let h = format!(r#"{{"alg":"RS256","kid":"{}","alg":"none"}}"#, f.key.kid());
    let input = format!("{}.{}", b64(h), b64(claims().to_string()));
    let token = format!("{input}.{}", b64(f.key.sign(input.as_bytes()).unwrap()));
    assert_refused(
        &f,
        &token,
        &[],
        "malformed token: header is not a JSON object with unique member names",
    );
}

#[test]
fn wrong_typ_is_refused_where_required() {
    let f = fixture();
    let mut h = header(&f.key);
    h["typ"] = json!("JWT");
    let token = signed(&f.key, &h, &claims());
    assert_refused(&f, &token, &["--typ", "at+jwt"], "unexpected token type");
    // Without --typ the same token is valid: the check is opt-in, as RFC 9068 says.
    assert_eq!(verify(&f, &token, &[]).0, 0);
}
