//! The client against a stand-in provider on loopback (discovery and an empty JWKS), so no test
//! reaches the internet.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use openidconnect::{PkceCodeChallenge, PkceCodeVerifier};

use super::*;

/// Serves `/.well-known/openid-configuration` naming `issuer` (the server's own URL when
/// `None`) and `/jwks`; counts discovery requests.
fn provider(issuer: Option<&str>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let issuer = issuer.unwrap_or(&base).to_owned();
    let hits = Arc::new(AtomicUsize::new(0));
    let (counter, me) = (hits.clone(), base.clone());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let body = if request.starts_with("GET /.well-known/openid-configuration") {
                counter.fetch_add(1, Ordering::SeqCst);
                serde_json::json!({
                    "issuer": issuer,
                    "authorization_endpoint": format!("{me}/authorize"),
                    "token_endpoint": format!("{me}/token"),
                    "jwks_uri": format!("{me}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                })
                .to_string()
            } else {
                r#"{"keys":[]}"#.to_owned()
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, hits)
}

fn federation(issuer: &str) -> Federation {
    let mut settings = FederationSettings::default();
    settings.google.client_id = "gh-client".into();
    settings.google.client_secret = "s3cret".into();
    settings.google.issuer = issuer.into();
    settings.http_timeout_secs = 2;
    Federation::new(&settings, "https://id.example").unwrap()
}

fn secrets() -> FlowSecrets {
    FlowSecrets { state: "s".repeat(43), nonce: "n".repeat(43), pkce_verifier: "v".repeat(43) }
}

fn param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_authorization_url_carries_state_nonce_and_an_s256_challenge() {
    let (base, _) = provider(None);
    let url = federation(&base).authorization_url("google", &secrets()).await.unwrap();
    assert!(url.starts_with(&format!("{base}/authorize?")), "{url}");
    let expected = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new("v".repeat(43)));
    for (name, value) in [
        ("response_type", "code"),
        ("client_id", "gh-client"),
        ("redirect_uri", "https://id.example/federation/google/callback"),
        ("scope", "openid email profile"),
        ("state", &"s".repeat(43)),
        ("nonce", &"n".repeat(43)),
        ("code_challenge", expected.as_str()),
        ("code_challenge_method", "S256"),
    ] {
        assert_eq!(param(&url, name).as_deref(), Some(value), "{name} in {url}");
    }
}

#[tokio::test]
async fn discovery_is_fetched_lazily_and_once() {
    let (base, hits) = provider(None);
    let fed = federation(&base);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing is fetched before the first sign-in");
    fed.authorization_url("google", &secrets()).await.unwrap();
    fed.authorization_url("google", &secrets()).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(fed.providers(), [ProviderInfo { name: "google".into(), label: "Google".into() }]);
}

#[tokio::test]
async fn a_closed_port_is_unreachable() {
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    let e = federation(&closed).authorization_url("google", &secrets()).await.unwrap_err();
    assert!(matches!(e, FederationError::Unreachable(_)), "{e:?}");
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let (base, _) = provider(Some("https://accounts.evil.example"));
    let e = federation(&base).authorization_url("google", &secrets()).await.unwrap_err();
    assert!(matches!(e, FederationError::Upstream(ref m) if m.contains("OIDC Discovery")), "{e:?}");
}

#[tokio::test]
async fn an_unknown_provider_is_named() {
    let (base, _) = provider(None);
    let e = federation(&base).authorization_url("facebook", &secrets()).await.unwrap_err();
    assert_eq!(e, FederationError::UnknownProvider("facebook".into()));
}

#[test]
fn microsoft_email_domain_verified_is_read_as_a_boolean_or_string() {
    let claims = |v: serde_json::Value| UpstreamClaims { tid: None, xms_edov: Some(v) };
    assert!(claims(serde_json::json!(true)).email_domain_verified());
    assert!(claims(serde_json::json!("1")).email_domain_verified());
    assert!(!claims(serde_json::json!(false)).email_domain_verified());
    assert!(!UpstreamClaims { tid: None, xms_edov: None }.email_domain_verified());
}

#[tokio::test]
async fn a_callback_from_another_issuer_is_refused_before_the_code_is_redeemed() {
    let (base, _) = provider(None);
    let callback = Callback {
        code: Some("c".into()),
        state: Some("s".into()),
        iss: Some("https://accounts.evil.example".into()),
        ..Callback::default()
    };
    let e = federation(&base).finish("google", &callback, &secrets()).await.unwrap_err();
    assert!(matches!(e, FederationError::Upstream(ref m) if m.contains("RFC 9207")), "{e:?}");
    let cancelled = Callback { error: Some("access_denied".into()), ..Callback::default() };
    let e = federation(&base).finish("google", &cancelled, &secrets()).await.unwrap_err();
    assert_eq!(e, FederationError::Cancelled);
}
