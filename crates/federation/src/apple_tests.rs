//! Apple's client secret and `user` field, without a network.

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::*;

/// A fresh P-256 key as Apple's `.p8` file holds it, and its public point.
fn p8() -> (String, Vec<u8>) {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = pair.to_pkcs8v1().unwrap();
    let body = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
    (pem, pair.public_key().as_ref().to_vec())
}

fn settings(pem: &str) -> AppleSettings {
    AppleSettings {
        client_id: "gov.atlanta.id".into(),
        team_id: "TEAM123456".into(),
        key_id: "KEY1234567".into(),
        private_key: pem.into(),
        ..Default::default()
    }
}

fn part(jwt: &str, i: usize) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').nth(i).unwrap()).unwrap()).unwrap()
}

#[test]
fn the_client_secret_is_an_es256_jwt_with_apples_claims() {
    let (pem, public) = p8();
    let key = settings(&pem).key().unwrap();
    let signer = ClientSecret::new(&key, "gov.atlanta.id", APPLE_ISSUER).unwrap();
    let now = 1_800_000_000;
    let jwt = signer.sign(now).unwrap();
    assert_eq!(part(&jwt, 0), serde_json::json!({ "alg": "ES256", "kid": "KEY1234567" }));
    let claims = part(&jwt, 1);
    assert_eq!(claims["iss"], "TEAM123456");
    assert_eq!(claims["sub"], "gov.atlanta.id");
    assert_eq!(claims["aud"], "https://appleid.apple.com");
    assert_eq!(claims["iat"], now);
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now && exp - now <= 15_777_000, "Apple allows at most 6 months");
    assert!(exp - now <= 300, "gatehouse keeps it short-lived");

    let (input, signature) = jwt.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    assert_eq!(signature.len(), 64, "JWS ES256 is R || S");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public).verify(input.as_bytes(), &signature).unwrap();
}

#[test]
fn the_client_secret_is_reused_until_shortly_before_it_expires() {
    let (pem, _) = p8();
    let signer = ClientSecret::new(&settings(&pem).key().unwrap(), "c", APPLE_ISSUER).unwrap();
    let first = signer.at(1000).unwrap();
    assert_eq!(signer.at(1100).unwrap(), first);
    let later = signer.at(1000 + SECRET_TTL - SECRET_MARGIN).unwrap();
    assert_ne!(later, first);
    assert_eq!(part(&later, 1)["iat"], 1000 + SECRET_TTL - SECRET_MARGIN);
}

#[test]
fn the_key_may_come_from_a_file_or_an_escaped_environment_value() {
    let (pem, _) = p8();
    let dir = std::env::temp_dir().join(format!("gh-apple-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("AuthKey.p8");
    std::fs::write(&file, &pem).unwrap();
    let from_file = AppleSettings {
        private_key: String::new(),
        private_key_file: file.display().to_string(),
        ..settings("")
    };
    assert!(from_file.key().is_ok());
    assert!(settings(&pem.replace('\n', "\\n")).key().is_ok());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_apple_settings_are_named() {
    let (pem, _) = p8();
    assert_eq!(settings("not a key").key().unwrap_err().key, "federation.apple.private_key");
    assert_eq!(
        AppleSettings { team_id: String::new(), ..settings(&pem) }.key().unwrap_err().key,
        "federation.apple.team_id"
    );
    let both = AppleSettings { private_key_file: "/x.p8".into(), ..settings(&pem) };
    assert_eq!(both.key().unwrap_err().key, "federation.apple.private_key");
    let missing = AppleSettings {
        private_key: String::new(),
        private_key_file: "/nonexistent.p8".into(),
        ..settings("")
    };
    assert_eq!(missing.key().unwrap_err().key, "federation.apple.private_key_file");
    assert!(!format!("{:?}", settings(&pem)).contains("PRIVATE KEY"));
}

fn identity() -> ExternalIdentity {
    ExternalIdentity {
        provider: "apple".into(),
        subject: "001234.abcd".into(),
        email: Some("x@privaterelay.appleid.com".into()),
        email_verified: true,
        name: None,
        given_name: None,
        family_name: None,
        upstream_amr: vec![],
    }
}

#[test]
fn the_first_authorizations_user_field_supplies_the_name_only() {
    let mut id = identity();
    let user = r#"{"name":{"firstName":"Ole","lastName":"Mae"},"email":"evil@example.org"}"#;
    add_posted_name(user, &mut id);
    assert_eq!(
        (id.name.as_deref(), id.given_name.as_deref(), id.family_name.as_deref()),
        (Some("Ole Mae"), Some("Ole"), Some("Mae"))
    );
    assert_eq!(id.email.as_deref(), Some("x@privaterelay.appleid.com"), "the email is the ID token's");
    let mut id = identity();
    add_posted_name("not json", &mut id);
    add_posted_name(r#"{"email":"a@b"}"#, &mut id);
    assert_eq!(id, identity());
}
