use super::*;
use crate::testutil::{CHALLENGE, client};

fn params() -> AuthorizationParams {
    AuthorizationParams {
        response_type: Some("code".into()),
        client_id: Some("client-1".into()),
        redirect_uri: Some("https://portal.example.org/cb?tenant=atl".into()),
        scope: Some("openid email".into()),
        state: Some("st".into()),
        nonce: Some("n".into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    }
}

fn page_err(p: &AuthorizationParams) -> AuthorizePageError {
    resolve_redirect(p, Some(&client())).unwrap_err()
}

fn code_of(p: &AuthorizationParams) -> ErrorCode {
    validate(p, &client(), "https://portal.example.org/cb?tenant=atl".into()).unwrap_err().code
}

#[test]
fn registered_redirect_uri_resolves() {
    assert_eq!(
        resolve_redirect(&params(), Some(&client())).unwrap(),
        "https://portal.example.org/cb?tenant=atl"
    );
}

#[test]
fn missing_or_unknown_client_is_a_page_error() {
    let mut p = params();
    p.client_id = None;
    assert_eq!(page_err(&p), AuthorizePageError::MissingClientId);
    p.client_id = Some(String::new());
    assert_eq!(page_err(&p), AuthorizePageError::MissingClientId);
    assert_eq!(resolve_redirect(&params(), None), Err(AuthorizePageError::UnknownClient));
    p.client_id = Some("client-2".into());
    assert_eq!(page_err(&p), AuthorizePageError::UnknownClient);
}

#[test]
fn missing_redirect_uri_is_a_page_error_even_with_one_registered() {
    let mut p = params();
    p.redirect_uri = None;
    let mut c = client();
    c.redirect_uris.truncate(1);
    assert_eq!(resolve_redirect(&p, Some(&c)), Err(AuthorizePageError::MissingRedirectUri));
}

#[test]
fn redirect_uri_must_match_exactly() {
    for near_miss in [
        "https://portal.example.org/cb?tenant=atl/",
        "https://portal.example.org/cb/?tenant=atl",
        "https://portal.example.org/cb",
        "https://portal.example.org/cb?tenant=nyc",
        "https://portal.example.org/cb?tenant=atl&x=1",
        "https://PORTAL.example.org/cb?tenant=atl",
        "https://portal.example.org/CB?tenant=atl",
        "https://portal.example.org:443/cb?tenant=atl",
        "http://portal.example.org/cb?tenant=atl",
        "https://portal.example.org/cb?tenant=atl#x",
        "https://portal.example.org.evil.example/cb?tenant=atl",
    ] {
        let mut p = params();
        p.redirect_uri = Some(near_miss.into());
        assert_eq!(page_err(&p), AuthorizePageError::UnregisteredRedirectUri, "{near_miss}");
    }
    let mut p = params();
    p.redirect_uri = Some("http://127.0.0.1:8400/cb".into());
    assert!(resolve_redirect(&p, Some(&client())).is_ok());
}

/// RFC 8252 §7.3: a native app's loopback IP redirect URI matches on any port; nothing else
/// about it may differ, and no other URI gets that leeway.
#[test]
fn a_loopback_ip_redirect_uri_matches_on_any_port_and_only_on_the_port() {
    let mut c = client();
    c.redirect_uris = vec!["http://127.0.0.1:8400/cb".into(), "http://[::1]/cb?x=1".into()];
    let resolve = |uri: &str| {
        let mut p = params();
        p.redirect_uri = Some(uri.into());
        resolve_redirect(&p, Some(&c))
    };
    for allowed in ["http://127.0.0.1:51004/cb", "http://127.0.0.1/cb", "http://[::1]:7/cb?x=1"] {
        assert_eq!(resolve(allowed), Ok(allowed.to_owned()), "the requested port is kept: {allowed}");
    }
    for refused in [
        "http://127.0.0.1:51004/cb/",
        "http://127.0.0.1:51004/CB",
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:65536/cb",
        "http://127.0.0.1:08400/cb",
        "http://127.0.0.1:/cb",
        "http://127.0.0.1:8400@evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "https://127.0.0.1:8400/cb",
        "http://localhost:8400/cb",
        "http://127.0.0.2:8400/cb",
        "http://[::1]:7/cb",
        "http://[::1]:7/cb?x=2",
    ] {
        assert_eq!(resolve(refused), Err(AuthorizePageError::UnregisteredRedirectUri), "{refused}");
    }
    // A registered localhost or https URI keeps the exact rule.
    assert!(!redirect_uri_matches("http://localhost:8400/cb", "http://localhost:9000/cb"));
    assert!(!redirect_uri_matches(
        "https://portal.example.org:8443/cb",
        "https://portal.example.org:9443/cb"
    ));
}

#[test]
fn page_errors_read_as_sentences() {
    assert!(AuthorizePageError::UnregisteredRedirectUri.to_string().starts_with("The application"));
}

#[test]
fn valid_request_is_accepted() {
    let r = validate(&params(), &client(), "https://portal.example.org/cb?tenant=atl".into()).unwrap();
    assert_eq!(r.client_id.as_str(), "client-1");
    assert_eq!(r.scopes.to_string(), "openid email");
    assert_eq!(r.state.as_deref(), Some("st"));
    assert_eq!(r.nonce.as_deref(), Some("n"));
    assert_eq!(r.code_challenge, CHALLENGE);
    assert!(!r.prompt_none && !r.prompt_login);
    assert_eq!(r.max_age, None);
}

#[test]
fn response_type_must_be_code() {
    let mut p = params();
    p.response_type = None;
    assert_eq!(code_of(&p), ErrorCode::InvalidRequest);
    for other in ["token", "id_token", "code id_token", "Code"] {
        p.response_type = Some(other.into());
        assert_eq!(code_of(&p), ErrorCode::UnsupportedResponseType, "{other}");
    }
}

#[test]
fn client_without_the_code_grant_is_unauthorized() {
    let mut c = client();
    c.grant_types = vec!["client_credentials".into()];
    let e = validate(&params(), &c, "x".into()).unwrap_err();
    assert_eq!(e.code, ErrorCode::UnauthorizedClient);
}

#[test]
fn scope_must_contain_openid_and_be_allowed() {
    let mut p = params();
    p.scope = None;
    assert_eq!(code_of(&p), ErrorCode::InvalidScope);
    p.scope = Some("email profile".into());
    assert_eq!(code_of(&p), ErrorCode::InvalidScope);
    p.scope = Some("openid phone".into()); // the test client may not ask for phone
    assert_eq!(code_of(&p), ErrorCode::InvalidScope);
    p.scope = Some("openid\"".into());
    assert_eq!(code_of(&p), ErrorCode::InvalidScope);
}

#[test]
fn pkce_s256_is_required() {
    let mut p = params();
    p.code_challenge = None;
    let e = validate(&p, &client(), "x".into()).unwrap_err();
    assert_eq!(e, OAuthError::invalid_request("code_challenge required (PKCE S256)"));
    let mut p = params();
    p.code_challenge_method = None;
    assert_eq!(code_of(&p), ErrorCode::InvalidRequest);
    p.code_challenge_method = Some("plain".into());
    assert_eq!(code_of(&p), ErrorCode::InvalidRequest);
    let mut p = params();
    p.code_challenge = Some("short".into());
    assert_eq!(code_of(&p), ErrorCode::InvalidRequest);
}

#[test]
fn request_objects_are_not_supported() {
    let mut p = params();
    p.request = Some("eyJ...".into());
    assert_eq!(code_of(&p), ErrorCode::RequestNotSupported);
    let mut p = params();
    p.request_uri = Some("https://rp.example/req".into());
    assert_eq!(code_of(&p), ErrorCode::RequestUriNotSupported);
}

#[test]
fn response_mode_is_query_or_form_post() {
    let mut p = params();
    assert_eq!(validate(&p, &client(), "x".into()).unwrap().response_mode, ResponseMode::Query);
    p.response_mode = Some("query".into());
    assert_eq!(validate(&p, &client(), "x".into()).unwrap().response_mode, ResponseMode::Query);
    p.response_mode = Some("form_post".into());
    assert_eq!(validate(&p, &client(), "x".into()).unwrap().response_mode, ResponseMode::FormPost);
    for other in ["fragment", "FORM_POST", "web_message"] {
        p.response_mode = Some(other.into());
        assert_eq!(code_of(&p), ErrorCode::InvalidRequest, "{other}");
    }
}

#[test]
fn claims_parameter_is_parsed_and_a_sub_value_requires_that_subject() {
    let mut p = params();
    p.claims = Some(r#"{"id_token":{"email":null,"sub":{"value":"acct-7"}}}"#.into());
    let r = validate(&p, &client(), "x".into()).unwrap();
    assert!(r.claims.unwrap().id_token.contains_key("email"));
    assert_eq!(r.required_subject.as_deref(), Some("acct-7"));
    p.claims = Some("{not json".into());
    assert_eq!(code_of(&p), ErrorCode::InvalidRequest);
}

#[test]
fn the_return_trip_drops_prompt_login_max_age_and_the_hint() {
    let mut p = params();
    p.prompt = Some("login consent".into());
    p.max_age = Some("0".into());
    p.id_token_hint = Some("eyJ".into());
    let back = p.for_return_trip();
    assert_eq!(back.prompt.as_deref(), Some("consent"));
    assert_eq!((back.max_age, back.id_token_hint), (None, None));
    p.prompt = Some("login".into());
    assert_eq!(p.for_return_trip().prompt, None);
    assert_eq!(back.scope, p.scope);
}

#[test]
fn errors_redirect_only_to_a_signed_in_end_user_or_a_silent_request() {
    let mut p = params();
    p.response_type = Some("token".into());
    assert_eq!(p.error_delivery(false), ErrorDelivery::SignInFirst);
    assert_eq!(p.error_delivery(true), ErrorDelivery::Redirect);
    // RFC 9700 §4.11.2: the silent authentication use case (prompt=none) is the exception;
    // OIDC Core §3.1.2.6 has it answer at once.
    for silent in ["none", "none login", "consent none"] {
        p.prompt = Some(silent.into());
        assert_eq!(p.error_delivery(false), ErrorDelivery::Redirect, "{silent}");
    }
    for asks in ["login", "nonesuch", "", "consent"] {
        p.prompt = Some(asks.into());
        assert_eq!(p.error_delivery(false), ErrorDelivery::SignInFirst, "{asks}");
    }
}

#[test]
fn prompt_values() {
    let ok = |s: &str| {
        let mut p = params();
        p.prompt = Some(s.into());
        validate(&p, &client(), "x".into()).map(|r| (r.prompt_none, r.prompt_login, r.prompt_consent))
    };
    assert_eq!(ok("none").unwrap(), (true, false, false));
    assert_eq!(ok("login").unwrap(), (false, true, false));
    assert_eq!(ok("login consent").unwrap(), (false, true, true));
    assert_eq!(ok("consent select_account").unwrap(), (false, false, true));
    assert_eq!(ok("").unwrap(), (false, false, false));
    for bad in ["none login", "none consent", "select_account none", "create", "LOGIN"] {
        assert_eq!(ok(bad).unwrap_err().code, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn max_age_must_be_a_non_negative_integer() {
    let with = |s: &str| {
        let mut p = params();
        p.max_age = Some(s.into());
        validate(&p, &client(), "x".into())
    };
    assert_eq!(with("0").unwrap().max_age, Some(0));
    assert_eq!(with("3600").unwrap().max_age, Some(3600));
    for bad in ["-1", "1.5", "abc", " 5"] {
        assert_eq!(with(bad).unwrap_err().code, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn nonce_is_optional_and_empty_values_count_as_absent() {
    let mut p = params();
    p.nonce = None;
    p.state = Some(String::new());
    p.login_hint = Some("ada@example.org".into());
    let r = validate(&p, &client(), "x".into()).unwrap();
    assert_eq!(r.nonce, None);
    assert_eq!(r.state, None);
    assert_eq!(r.login_hint.as_deref(), Some("ada@example.org"));
}

#[test]
fn params_deserialise_from_a_query_ignoring_unknown_ones() {
    let p: AuthorizationParams = serde_json::from_value(serde_json::json!({
        "response_type": "code", "client_id": "client-1", "max_age": "60", "foo": "bar"
    }))
    .unwrap();
    assert_eq!(p.max_age.as_deref(), Some("60"));
    assert_eq!(p.client_id.as_deref(), Some("client-1"));
}

#[test]
fn names_lists_every_parameter() {
    let all = AuthorizationParams {
        response_type: Some("x".into()),
        client_id: Some("x".into()),
        redirect_uri: Some("x".into()),
        scope: Some("x".into()),
        state: Some("x".into()),
        nonce: Some("x".into()),
        code_challenge: Some("x".into()),
        code_challenge_method: Some("x".into()),
        prompt: Some("x".into()),
        max_age: Some("x".into()),
        login_hint: Some("x".into()),
        response_mode: Some("x".into()),
        request: Some("x".into()),
        request_uri: Some("x".into()),
        display: Some("x".into()),
        ui_locales: Some("x".into()),
        claims: Some("x".into()),
        id_token_hint: Some("x".into()),
        acr_values: Some("x".into()),
    };
    let serde_json::Value::Object(fields) = serde_json::to_value(&all).unwrap() else { panic!("an object") };
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    let mut listed = AuthorizationParams::NAMES.to_vec();
    names.sort_unstable();
    listed.sort_unstable();
    assert_eq!(names, listed);
}
