//! Redirect URI registration and matching: `oauth::client::register` (RFC 6749 §3.1.2,
//! RFC 8252), the exact match at `/authorize` (`resolve_redirect`, RFC 9700 §4.1.3; any port
//! on a loopback IP URI, RFC 8252 §7.3) and at
//! `/logout` (RP-Initiated Logout §3), and the responses built on a registered URI.
//! Input: registered URI, 0xFF, presented URI, 0xFF, state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth::authorize::{resolve_redirect, success_redirect};
use oauth::{AuthorizationParams, ClientRegistration, LogoutParams};

const ISS: &str = "https://id.example.org";

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0xFF).map(String::from_utf8_lossy);
    let registered = parts.next().unwrap_or_default().into_owned();
    let presented = parts.next().unwrap_or_default().into_owned();
    let state = parts.next().unwrap_or_default().into_owned();
    let reg = ClientRegistration {
        name: "fuzz".into(),
        redirect_uris: vec![registered.clone()],
        post_logout_redirect_uris: vec![registered.clone()],
        ..Default::default()
    };
    let Ok((client, _)) = oauth::client::register(reg, 0) else { return };
    // A registered URI ends up in a Location header as is: printable ASCII only.
    assert!(registered.bytes().all(|b| b.is_ascii_graphic()), "registered {registered:?}");
    let params = AuthorizationParams {
        client_id: Some(client.id.as_str().to_owned()),
        redirect_uri: Some(presented.clone()),
        ..Default::default()
    };
    match resolve_redirect(&params, Some(&client)) {
        Ok(uri) => {
            assert_eq!(uri, presented, "the redirect goes to the URI presented");
            if presented != registered {
                // Only a loopback IP URI may differ (RFC 8252 §7.3), and only in its port.
                assert!(
                    ["http://127.0.0.1", "http://[::1]"].iter().any(|h| presented.starts_with(h)),
                    "{presented:?} matched {registered:?}"
                );
                let registered_url = url::Url::parse(&registered).unwrap();
                let mut presented_url = url::Url::parse(&presented).unwrap();
                presented_url.set_port(registered_url.port()).unwrap();
                assert_eq!(presented_url, registered_url, "{presented:?} matched {registered:?}");
            }
        }
        Err(_) => assert!(presented != registered || presented.is_empty()),
    }
    let logout = LogoutParams {
        client_id: Some(client.id.as_str().to_owned()),
        post_logout_redirect_uri: Some(presented.clone()),
        state: Some(state.clone()),
        ..Default::default()
    };
    if let Ok(request) = oauth::logout::validate(&logout, None, Some(&client.id), Some(&client))
        && let Some(to) = &request.redirect
    {
        assert!(presented == registered && to.starts_with(&registered), "logout to {to:?}");
    }
    // The success response keeps the registered URI byte for byte and its parameters read back.
    let to = success_redirect(&registered, "c0de", Some(&state), ISS);
    assert!(to.starts_with(&registered));
    // Read back as a client reads its query: everything after the first '?'.
    let query = to.split_once('?').map_or("", |(_, q)| q);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    for (k, v) in [("code", "c0de"), ("state", state.as_str()), ("iss", ISS)] {
        assert!(pairs.iter().any(|(pk, pv)| pk == k && pv == v), "{k} lost in {to:?}");
    }
});
