//! `portcullis jwt decode|verify|encode` as a developer runs it: offline with
//! a shared secret or key files, and against a running issuer's JWKS, with
//! every forged token an attacker would try.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis_jose::{Algorithm, SigningKey};
use portcullis_testkit::{StoreKind, TestDatabase, TestServer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
const API: &str = "https://courses.example/api";

/// The token of PyJWT's tutorial: `jwt.encode({"username": "hesam"}, "123456")`.
const PYJWT_TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VybmFtZSI6Imhlc2FtIn0.zI_X9pISTvl8DG2SE7sfALdB2HjJWFrceHzr7xVdOEY";

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap()
    }

    /// Asserts the CLI refused the token with exactly one `invalid: ...` line.
    fn assert_invalid(&self, reason: &str) {
        assert_eq!(
            self.code, 1,
            "stdout: {} stderr: {}",
            self.stdout, self.stderr
        );
        assert_eq!(self.stdout, "", "nothing on stdout for an invalid token");
        assert_eq!(
            self.stderr.lines().collect::<Vec<_>>(),
            [format!("invalid: {reason}")],
            "one line naming the reason"
        );
    }
}

fn portcullis(args: &[&str], stdin: Option<&str>) -> Outcome {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("PORTCULLIS_JWT_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Writes `key`'s private PEM and public JWKS to files in `dir`.
fn key_files(dir: &tempfile::TempDir, key: &SigningKey) -> (String, String) {
    let der = key.to_pkcs8().unwrap();
    let body = STANDARD.encode(der.as_bytes());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let pem_path = dir.path().join(format!("{}.pem", key.kid()));
    std::fs::write(&pem_path, pem).unwrap();
    let jwks_path = dir.path().join(format!("{}.jwks.json", key.kid()));
    std::fs::write(
        &jwks_path,
        serde_json::to_string(&key.public_jwks()).unwrap(),
    )
    .unwrap();
    (
        pem_path.display().to_string(),
        jwks_path.display().to_string(),
    )
}

#[test]
fn the_pyjwt_tutorial_is_one_command_each() {
    let encoded = portcullis(
        &[
            "jwt",
            "encode",
            "--secret",
            "123456",
            "--claim",
            "username=hesam",
        ],
        None,
    );
    assert_eq!(encoded.code, 0, "{}", encoded.stderr);
    assert_eq!(
        encoded.stdout.trim(),
        PYJWT_TOKEN,
        "the same bytes PyJWT produced"
    );

    let verified = portcullis(&["jwt", "verify", "--secret", "123456", PYJWT_TOKEN], None);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert_eq!(verified.json()["claims"], json!({"username": "hesam"}));
    assert_eq!(verified.json()["header"]["alg"], "HS256");
    assert!(
        verified.stderr.starts_with("valid: HS256 signature")
            && verified
                .stderr
                .contains("exp (absent: the token never expires)"),
        "{}",
        verified.stderr
    );

    portcullis(
        &["jwt", "verify", "--secret", "wrong-key", PYJWT_TOKEN],
        None,
    )
    .assert_invalid("invalid signature");
    portcullis(
        &[
            "jwt",
            "verify",
            "--secret",
            "123456",
            "--require-exp",
            PYJWT_TOKEN,
        ],
        None,
    )
    .assert_invalid("missing or malformed claim `exp`");

    // The secret from standard input or the environment, not the command line.
    let from_stdin = portcullis(
        &["jwt", "verify", "--secret-stdin", PYJWT_TOKEN],
        Some("123456\n"),
    );
    assert_eq!(from_stdin.code, 0, "{}", from_stdin.stderr);
    let signed = portcullis(
        &["jwt", "encode", "--secret-stdin", r#"{"username":"hesam"}"#],
        Some("123456\n"),
    );
    assert_eq!(signed.stdout.trim(), PYJWT_TOKEN, "{}", signed.stderr);
    let both_on_stdin = portcullis(&["jwt", "verify", "--secret-stdin"], Some("123456\n"));
    assert_eq!(both_on_stdin.code, 1);
    assert!(
        both_on_stdin
            .stderr
            .contains("give the token as an argument")
    );
}

#[test]
fn expiry_is_set_with_a_duration_and_enforced() {
    let fresh = portcullis(
        &[
            "jwt",
            "encode",
            "--alg",
            "HS512",
            "--secret",
            "123456",
            "--claim",
            "username=hesam",
            "--exp",
            "25s",
            "--nbf",
            "0s",
            "--iat",
        ],
        None,
    );
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    let token = fresh.stdout.trim();
    let verified = portcullis(&["jwt", "verify", "--secret", "123456", token], None);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    let claims = &verified.json()["claims"];
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        25
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(verified.json()["header"]["alg"], "HS512");
    let times = &verified.json()["times"];
    assert!(
        times["exp"].as_str().unwrap().ends_with("Z (not expired)"),
        "{times}"
    );

    let expired = portcullis(
        &["jwt", "encode", "--secret", "123456", "--claim", "exp=1000"],
        None,
    );
    let token = expired.stdout.trim();
    portcullis(&["jwt", "verify", "--secret", "123456", token], None)
        .assert_invalid("token expired");
    let decoded = portcullis(&["jwt", "decode", token], None);
    assert_eq!(
        decoded.json()["times"]["exp"],
        "1970-01-01T00:16:40Z (expired)",
        "decode shows dates and whether expired"
    );
    let early = portcullis(
        &[
            "jwt",
            "encode",
            "--secret",
            "123456",
            "--claim",
            "nbf=99999999999",
        ],
        None,
    );
    portcullis(
        &["jwt", "verify", "--secret", "123456", early.stdout.trim()],
        None,
    )
    .assert_invalid("token not valid yet");
}

#[test]
fn decode_shows_any_token_and_says_it_is_unverified() {
    let decoded = portcullis(&["jwt", "decode", PYJWT_TOKEN], None);
    assert_eq!(decoded.code, 0, "{}", decoded.stderr);
    assert_eq!(
        decoded.json(),
        json!({"header": {"typ": "JWT", "alg": "HS256"}, "claims": {"username": "hesam"}})
    );
    assert!(decoded.stderr.contains("NOT verified"));

    // From standard input, pasted with its `Bearer` prefix.
    let piped = portcullis(&["jwt", "decode"], Some(&format!("Bearer {PYJWT_TOKEN}\n")));
    assert_eq!(piped.json()["claims"]["username"], "hesam");

    for garbage in ["abc", "a.b", "!!.??.**", "e30.bm90IGpzb24.x"] {
        let out = portcullis(&["jwt", "decode", garbage], None);
        assert_eq!(out.code, 1, "{garbage}");
        assert!(
            out.stderr.starts_with("invalid: malformed token"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn every_asymmetric_algorithm_round_trips_through_key_files() {
    let dir = tempfile::tempdir().unwrap();
    for alg in Algorithm::ALL {
        let key = SigningKey::generate(alg).unwrap();
        let (pem, jwks) = key_files(&dir, &key);
        let encoded = portcullis(
            &[
                "jwt",
                "encode",
                "--alg",
                alg.as_str(),
                "--key",
                &pem,
                "--claim",
                "sub=svc",
                "--claim",
                &format!("aud={API}"),
                "--expires-in",
                "5m",
            ],
            None,
        );
        assert_eq!(encoded.code, 0, "{alg}: {}", encoded.stderr);
        let token = encoded.stdout.trim();
        let verified = portcullis(
            &["jwt", "verify", "--jwks", &jwks, "--audience", API, token],
            None,
        );
        assert_eq!(verified.code, 0, "{alg}: {}", verified.stderr);
        assert_eq!(verified.json()["claims"]["sub"], "svc");

        // Another key of the same type does not verify it.
        let other = SigningKey::generate(alg).unwrap();
        let (_, other_jwks) = key_files(&dir, &other);
        portcullis(&["jwt", "verify", "--jwks", &other_jwks, token], None)
            .assert_invalid("invalid signature");
    }
    // RS384/RS512/PS384/PS512 sign with an RSA key too.
    let rsa = SigningKey::generate(Algorithm::RS256).unwrap();
    let (pem, jwks) = key_files(&dir, &rsa);
    for alg in ["RS384", "RS512", "PS384", "PS512"] {
        let encoded = portcullis(
            &[
                "jwt",
                "encode",
                "--alg",
                alg,
                "--key",
                &pem,
                "--claim",
                "exp=99999999999",
            ],
            None,
        );
        assert_eq!(encoded.code, 0, "{alg}: {}", encoded.stderr);
        // The published JWK pins RS256, so the allow-list refuses the others.
        portcullis(
            &["jwt", "verify", "--jwks", &jwks, encoded.stdout.trim()],
            None,
        )
        .assert_invalid(&format!("algorithm `{alg}` is not allowed"));
    }
}

#[test]
fn signing_mistakes_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::ES256).unwrap();
    let (pem, _) = key_files(&dir, &key);
    type Case<'a> = (Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--alg", "none", "--secret", "x"],
            "unsupported algorithm `none`",
        ),
        (
            vec!["--alg", "RS256", "--secret", "x"],
            "a shared secret signs only",
        ),
        (
            vec!["--alg", "RS256", "--key", &pem],
            "not a PEM private key",
        ),
        (vec!["--key", &pem], "give --alg with --key"),
        (vec!["--claim", "a=1"], "no key to sign with"),
        (
            vec!["--secret", "x", "--claim", "novalue"],
            "is not NAME=VALUE",
        ),
        (
            vec!["--secret", "x", "--claims", "[1]"],
            "must be a JSON object",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["jwt", "encode"];
        all.extend(&args);
        let out = portcullis(&all, None);
        assert_eq!(out.code, 1, "{args:?}");
        assert!(
            out.stderr.starts_with("portcullis: ") && out.stderr.contains(message),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
    // Mixing two key sources is a usage error.
    let out = portcullis(&["jwt", "encode", "--key", &pem, "--secret", "x"], None);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[tokio::test]
async fn verify_against_a_running_issuer_refuses_every_forgery() {
    let db = TestDatabase::new(StoreKind::Sqlite).await;
    let server = TestServer::spawn(BIN.as_ref(), &db, &[]).await;
    let (id, secret) = server
        .create_client(&[
            "--name",
            "worker",
            "--grant-type",
            "client_credentials",
            "--scope",
            "courses:read",
            "--audience",
            API,
        ])
        .await;
    let response: Value = reqwest::Client::new()
        .post(format!("{}/token", server.url))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("resource", API)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = response["access_token"].as_str().unwrap().to_owned();
    let issuer = server.url.clone();
    let jwks_url = format!("{issuer}/jwks.json");

    let verify = |token: String, extra: Vec<String>| {
        let issuer = issuer.clone();
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "jwt".to_owned(),
                "verify".to_owned(),
                "--issuer".to_owned(),
                issuer,
            ];
            args.extend(extra);
            args.push(token);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            portcullis(&args, None)
        })
    };
    let aud = || vec!["--audience".to_owned(), API.to_owned()];

    // The genuine token: discovery, JWKS, signature and every claim.
    let ok = verify(
        token.clone(),
        [aud(), vec!["--typ".into(), "at+jwt".into()]].concat(),
    )
    .await
    .unwrap();
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert_eq!(ok.json()["claims"]["client_id"], id.as_str());
    assert!(ok.stderr.starts_with("valid: "), "{}", ok.stderr);
    assert!(!ok.stderr.contains("not checked"), "{}", ok.stderr);

    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap().to_owned();

    claims["scope"] = json!("courses:read courses:write admin");
    let tampered = format!("{}.{}.{}", parts[0], b64(claims.to_string()), parts[2]);
    let none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string()),
        parts[1]
    );
    // HS256 keyed with the published JWKS: the classic key-confusion forgery.
    let jwks_text = reqwest::get(&jwks_url).await.unwrap().text().await.unwrap();
    let confused_input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}).to_string()),
        parts[1]
    );
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, jwks_text.as_bytes()),
        confused_input.as_bytes(),
    );
    let confused = format!("{confused_input}.{}", b64(tag.as_ref()));
    let unknown_kid = format!(
        "{}.{}.{}",
        b64(json!({"alg": header["alg"], "typ": "at+jwt", "kid": "forged"}).to_string()),
        parts[1],
        parts[2]
    );

    type Case = (String, Vec<String>, &'static str);
    let cases: Vec<Case> = vec![
        (tampered, aud(), "invalid signature"),
        (none, aud(), "algorithm `none` is not allowed"),
        (confused, aud(), "algorithm `HS256` is not allowed"),
        (unknown_kid, aud(), "no key matches the token"),
        (
            token.clone(),
            vec!["--audience".into(), "https://other.example".into()],
            "wrong audience",
        ),
        (
            token.clone(),
            [aud(), vec!["--typ".into(), "JWT".into()]].concat(),
            "unexpected token type",
        ),
        (
            "not-a-token".into(),
            aud(),
            "malformed token: a JWS has three parts",
        ),
    ];
    for (forged, extra, reason) in cases {
        verify(forged, extra).await.unwrap().assert_invalid(reason);
    }

    // The issuer is checked even when the keys come from elsewhere.
    let wrong_issuer = tokio::task::spawn_blocking(move || {
        portcullis(
            &[
                "jwt",
                "verify",
                "--jwks",
                &jwks_url,
                "--issuer",
                "https://evil.example",
                &token,
            ],
            None,
        )
    })
    .await
    .unwrap();
    wrong_issuer.assert_invalid("wrong issuer");
    server.stop().await;
}
