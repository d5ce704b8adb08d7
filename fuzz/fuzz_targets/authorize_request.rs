//! The authorization request as `/authorize` and `/par` read it (`flows::authorize::load`,
//! `routes::par`): the query or form parsed into `AuthorizationParams`, the client and redirect
//! URI resolved, the rest validated, the response built. Properties: the request survives the
//! trips it takes (a query through the sign-in pages, JSON for a pushed request), and a
//! resolved redirect URI is always a registered one.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use oauth::authorize::{resolve_redirect, validate};
use oauth::{AuthorizationParams, AuthorizationResponse, Client, ClientRegistration};

const ISS: &str = "https://id.example.org";

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let reg = ClientRegistration {
            name: "fuzz".into(),
            redirect_uris: vec!["https://portal.example/cb".into(), "com.example.app:/cb?x=1".into()],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            ..Default::default()
        };
        oauth::client::register(reg, 0).map(|(c, _)| c).expect("a valid registration")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    let Ok(mut params) = serde_urlencoded::from_str::<AuthorizationParams>(raw) else { return };
    let back = params.for_return_trip();
    let query = serde_urlencoded::to_string(&back).expect("parameters serialise as a query");
    let again: AuthorizationParams = serde_urlencoded::from_str(&query).expect("our own query parses");
    assert_eq!(again, back, "the request changed on its way through the sign-in pages");
    let json = serde_json::to_string(&params).expect("parameters serialise as JSON");
    let stored: AuthorizationParams = serde_json::from_str(&json).expect("our own JSON parses");
    assert_eq!(stored, params, "a pushed request changed in storage");

    let client = client();
    // Half the inputs name the registered client, so the validation behind it is reached.
    if data.len() % 2 == 0 {
        params.client_id = Some(client.id.as_str().to_owned());
    }
    let Ok(uri) = resolve_redirect(&params, Some(client)) else { return };
    assert!(client.redirect_uris.contains(&uri), "redirect to an unregistered URI {uri:?}");
    let response = match validate(&params, client, uri.clone()) {
        Ok(req) => AuthorizationResponse::success(req.response_mode, &uri, "c0de", req.state.as_deref(), ISS),
        Err(e) => AuthorizationResponse::error(Default::default(), &uri, &e, params.state.as_deref(), ISS),
    };
    match response {
        AuthorizationResponse::Redirect(to) => assert!(to.starts_with(&uri)),
        AuthorizationResponse::FormPost { action, .. } => assert_eq!(action, uri),
    }
});
