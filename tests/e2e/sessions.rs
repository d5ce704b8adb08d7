//! Browser sessions on the hosted pages: single sign-on, prompt=login, "Keep me signed in",
//! one message for a wrong password and an unknown email, CSRF.

use testkit::Gatehouse;

use crate::support::{self, PASSWORD};

/// An authorization request of `client` for `openid` with PKCE S256, plus `extra` parameters.
pub(crate) fn request(gh: &Gatehouse, client: &support::TestClient, extra: &[(&str, &str)]) -> String {
    let (_, challenge) = testkit::pkce::pair();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", "openid"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    support::authorize_url(gh, &params)
}

async fn second_request_with_a_live_session_skips_the_pages(gh: &Gatehouse) {
    let portal_a = support::create_client(gh, &[]);
    let portal_b = support::create_client(gh, &[]);
    support::create_user(gh, "sso@example.org");
    let http = support::browser();
    let back = support::sign_in_for_code(&http, gh, &request(gh, &portal_a, &[]), "sso@example.org").await;
    assert!(support::query_param(&back, "code").is_some());

    // Single sign-on: another portal gets a code straight away.
    let resp = http.get(request(gh, &portal_b, &[("state", "b")])).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let to = support::location(&resp);
    assert!(to.starts_with(&portal_b.redirect_uri) && support::query_param(&to, "code").is_some(), "{to}");
    // prompt=none works with a session too.
    let to =
        support::location(&http.get(request(gh, &portal_b, &[("prompt", "none")])).send().await.unwrap());
    assert!(support::query_param(&to, "code").is_some(), "{to}");

    // prompt=login forces the pages again.
    let resp = http.get(request(gh, &portal_b, &[("prompt", "login")])).send().await.unwrap();
    assert!(support::location(&resp).starts_with("/signin?"), "prompt=login must show sign-in");
}

async fn session_cookie_is_httponly_lax_and_persistent_only_when_asked(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "cookie@example.org");
    for keep in [false, true] {
        let http = support::browser();
        let url = request(gh, &client, &[]);
        let resp = http.get(&url).send().await.unwrap();
        let page = format!("{}{}", gh.base_url, support::location(&resp));
        let html = http.get(&page).send().await.unwrap().text().await.unwrap();
        let csrf = support::hidden(&html, "csrf");
        let continue_to = support::hidden(&html, "continue");
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("continue", continue_to.as_str()),
            ("email", "cookie@example.org"),
            ("password", PASSWORD),
        ];
        if keep {
            form.push(("keep", "1"));
        }
        let resp = http.post(format!("{}/signin/password", gh.base_url)).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("gatehouse_session="))
            .expect("a session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        assert_eq!(cookie.contains("Max-Age=2592000"), keep, "{cookie}");
    }
}

async fn wrong_password_and_unknown_email_look_the_same(gh: &Gatehouse) {
    let client = support::create_client(gh, &[]);
    support::create_user(gh, "known@example.org");
    let wrong = support::sign_in(
        &support::browser(),
        gh,
        &request(gh, &client, &[]),
        "known@example.org",
        "Wrong-Pass-1",
    )
    .await;
    let unknown =
        support::sign_in(&support::browser(), gh, &request(gh, &client, &[]), "nobody@example.org", PASSWORD)
            .await;
    assert_eq!(wrong.status(), unknown.status());
    assert!(!sets_session(&wrong));
    let message = |html: String| {
        let start = html.find("role=\"alert\">").expect("an error message") + 13;
        html[start..start + html[start..].find('<').unwrap()].to_owned()
    };
    assert_eq!(message(wrong.text().await.unwrap()), message(unknown.text().await.unwrap()));
}

async fn blank_email_says_the_field_cannot_be_left_blank(gh: &Gatehouse) {
    let http = support::browser();
    let html = http.get(format!("{}/signin", gh.base_url)).send().await.unwrap().text().await.unwrap();
    let csrf = support::hidden(&html, "csrf");
    let resp = http
        .post(format!("{}/signin/identify", gh.base_url))
        .form(&[("csrf", csrf.as_str()), ("continue", ""), ("email", "  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert!(resp.text().await.unwrap().contains("This field cannot be left blank"));
}

async fn forms_without_a_valid_csrf_token_are_refused(gh: &Gatehouse) {
    support::create_user(gh, "csrf@example.org");
    let http = support::browser();
    http.get(format!("{}/signin", gh.base_url)).send().await.unwrap();
    let resp = http
        .post(format!("{}/signin/password", gh.base_url))
        .form(&[("csrf", "forged"), ("continue", ""), ("email", "csrf@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(!sets_session(&resp));
}

crate::on_both_backends!(
    second_request_with_a_live_session_skips_the_pages,
    session_cookie_is_httponly_lax_and_persistent_only_when_asked,
    wrong_password_and_unknown_email_look_the_same,
    blank_email_says_the_field_cannot_be_left_blank,
    forms_without_a_valid_csrf_token_are_refused,
);

fn sets_session(resp: &reqwest::Response) -> bool {
    resp.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("gatehouse_session="))
}
