//! The JSON API under /api/v1, over real HTTP and real SMTP: the same flows as the hosted pages,
//! driven as a city's own sign-in UI would drive them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, Backend, PASSWORD};

const WAIT: Duration = Duration::from_secs(15);

fn api(gh: &testkit::Gatehouse, path: &str) -> String {
    format!("{}/api/v1{path}", gh.base_url)
}

/// POSTs JSON; returns (status, body as JSON, or Null when empty).
async fn post(http: &reqwest::Client, url: String, body: Value) -> (StatusCode, Value) {
    let resp = http.post(url).json(&body).send().await.unwrap();
    read(resp).await
}

pub(crate) async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

async fn sign_up_verify_sign_in_edit_change_password_and_delete(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let http = support::browser();
    let email = "olive@example.org";

    // The rules, listed before the citizen types.
    let (status, rules) = read(http.get(api(&gh, "/password-rules")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(rules["rules"].as_array().unwrap().iter().any(|r| r == "At least 8 characters"), "{rules}");

    // A form is not JSON: refused, nothing happens.
    let resp = http.post(api(&gh, "/signup")).form(&[("email", email)]).send().await.unwrap();
    let (status, body) = read(resp).await;
    assert_eq!(status, 415);
    assert_eq!(body["error"], "unsupported_media_type");

    // Every problem at once, each beside its field.
    let bad =
        json!({ "email": "not-an-email", "given_name": "", "family_name": "Tremblay", "password": "short" });
    let (status, body) = post(&http, api(&gh, "/signup"), bad).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> =
        body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "given_name"], "{body}");
    let weak =
        json!({ "email": email, "given_name": "Olive", "family_name": "Tremblay", "password": "olive" });
    let (status, body) = post(&http, api(&gh, "/signup"), weak).await;
    assert_eq!(status, 422, "{body}");
    let problems = body["fields"].as_array().unwrap();
    assert!(problems.len() >= 3 && problems.iter().all(|f| f["field"] == "password"), "every rule: {body}");
    sink.assert_none_for(email, Duration::from_millis(300)).await;

    let form =
        json!({ "email": email, "given_name": "Olive", "family_name": "Tremblay", "password": PASSWORD });
    let (status, body) = post(&http, api(&gh, "/signup"), form.clone()).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({ "status": "email_sent" })));
    let token =
        support::query_param(&sink.wait_for(email, WAIT).await.link("/verify-email"), "token").unwrap();
    // Signing up again at once is throttled, and says for how long.
    let resp = http.post(api(&gh, "/signup")).json(&form).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    let wait: i64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");

    let (status, body) = post(&http, api(&gh, "/signup/verify"), json!({ "token": token })).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "result": "created" })));
    let (status, body) = post(&http, api(&gh, "/signup/verify"), json!({ "token": token })).await;
    assert_eq!((status, &body["error"]), (StatusCode::GONE, &json!("link_expired")), "a link works once");

    // Signed out, the profile is not there.
    let (status, body) = read(http.get(api(&gh, "/profile")).send().await.unwrap()).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("not_signed_in")));

    let sign_in = json!({ "email": email, "password": PASSWORD, "keep_signed_in": true });
    let resp = http.post(api(&gh, "/signin/password")).json(&sign_in).send().await.unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("gatehouse_session=") && cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("Max-Age"), "keep signed in: a persistent cookie: {cookie}");
    let (status, session) = read(resp).await;
    assert_eq!(status, 200);
    assert_eq!((&session["email"], &session["amr"]), (&json!(email), &json!(["pwd"])));

    // The API's session is the provider's session: /authorize issues a code without a page.
    let client = support::create_client(&gh, &[]);
    let (_, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        &gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("prompt", "none"),
        ],
    );
    let back = support::location(&http.get(url).send().await.unwrap());
    assert!(support::query_param(&back, "code").is_some(), "{back}");

    let (status, profile) = read(http.get(api(&gh, "/profile")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(profile["given_name"], "Olive");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["sub"], session["sub"]);

    // PATCH: what is sent changes, the rest stays; every problem at once, nothing stored.
    let resp =
        http.patch(api(&gh, "/profile")).json(&json!({ "phone_number": "call me", "name": "x".repeat(300) }));
    let (status, body) = read(resp.send().await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"].as_array().unwrap().len(), 2, "{body}");
    let resp =
        http.patch(api(&gh, "/profile")).json(&json!({ "name": "Olive T.", "phone_number": "404-555-0142" }));
    let (status, profile) = read(resp.send().await.unwrap()).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!((&profile["name"], &profile["given_name"]), (&json!("Olive T."), &json!("Olive")));
    assert_eq!(profile["phone_number"], "404-555-0142");

    // Change password: the current one is checked, the new one under every rule.
    let change = |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let (status, body) =
        post(&http, api(&gh, "/profile/password"), change("Wrong-Guess-1", "Fresh-Start-88")).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("wrong_password")));
    let (status, body) = post(&http, api(&gh, "/profile/password"), change(PASSWORD, PASSWORD)).await;
    assert_eq!(status, 422, "the last passwords are refused: {body}");
    assert_eq!(body["fields"][0]["field"], "new_password");
    let (status, _) = post(&http, api(&gh, "/profile/password"), change(PASSWORD, "Fresh-Start-88")).await;
    assert_eq!(status, 204);
    // One notice, for the change that happened; the refused ones sent none.
    let notice = sink.wait_for(email, WAIT).await;
    assert_eq!(notice.subject, "Your password was changed");
    assert!(notice.text.contains("was changed in your profile on "), "{}", notice.text);
    assert!(!notice.text.contains("Fresh-Start-88"), "{}", notice.text);
    sink.assert_none_for(email, Duration::from_millis(500)).await;
    let stranger = support::browser();
    let (status, body) =
        post(&stranger, api(&gh, "/signin/password"), json!({ "email": email, "password": PASSWORD })).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("invalid_credentials")));
    let (status, _) = post(
        &stranger,
        api(&gh, "/signin/password"),
        json!({ "email": email, "password": "Fresh-Start-88" }),
    )
    .await;
    assert_eq!(status, 200);

    // Delete: gone, signed out everywhere, the email free again.
    let (status, _) = read(http.delete(api(&gh, "/profile")).send().await.unwrap()).await;
    assert_eq!(status, 204);
    for browser in [&http, &stranger] {
        let (status, _) = read(browser.get(api(&gh, "/session")).send().await.unwrap()).await;
        assert_eq!(status, 401);
    }
    let (status, body) = post(
        &stranger,
        api(&gh, "/signin/password"),
        json!({ "email": email, "password": "Fresh-Start-88" }),
    )
    .await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("invalid_credentials")));
}

async fn forgot_password_code_sign_in_lockout_and_unlock(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let email = "betty@example.org";
    support::create_user(&gh, email);
    let http = support::browser();

    // Forgot password: the same answer for an address without an account, and no mail.
    let (status, body) =
        post(&http, api(&gh, "/password/forgot"), json!({ "email": "nobody@example.org" })).await;
    assert_eq!((status, body), (StatusCode::ACCEPTED, json!({ "status": "email_sent" })));
    let (status, _) = post(&http, api(&gh, "/password/forgot"), json!({ "email": email })).await;
    assert_eq!(status, 202);
    let token =
        support::query_param(&sink.wait_for(email, WAIT).await.link("/password/reset"), "token").unwrap();
    sink.assert_none_for("nobody@example.org", Duration::from_millis(200)).await;
    let (status, body) =
        post(&http, api(&gh, "/password/reset"), json!({ "token": token, "password": "weak" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"].as_array().unwrap().len() >= 3, "every broken rule: {body}");
    let (status, _) =
        post(&http, api(&gh, "/password/reset"), json!({ "token": token, "password": "Reset-Done-51" }))
            .await;
    assert_eq!(status, 200);
    let (status, _) =
        post(&http, api(&gh, "/password/reset"), json!({ "token": token, "password": "Reset-Again-52" }))
            .await;
    assert_eq!(status, 410, "a reset link works once");
    // ASVS 5.0 6.3.7: the citizen is told, once, and the notice carries no secret.
    let notice = sink.wait_for(email, WAIT).await;
    assert_eq!(notice.subject, "Your password was changed");
    assert!(notice.text.contains("with a password reset link"), "{}", notice.text);
    assert!(!notice.text.contains("Reset-Done-51") && !notice.text.contains(&token), "{}", notice.text);

    // An emailed code; "Resend code" at once is throttled, for every address alike.
    for address in [email, "nobody@example.org"] {
        let (status, _) = post(&http, api(&gh, "/signin/code"), json!({ "email": address })).await;
        assert_eq!(status, 202);
        let (status, body) = post(&http, api(&gh, "/signin/code"), json!({ "email": address })).await;
        assert_eq!((status, &body["error"]), (StatusCode::TOO_MANY_REQUESTS, &json!("too_many_requests")));
        assert!(body["retry_after"].as_i64().unwrap() > 0);
    }
    let code = sink.wait_for(email, WAIT).await.six_digit_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, body) =
        post(&http, api(&gh, "/signin/code/verify"), json!({ "email": email, "code": wrong })).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("invalid_code")));
    let (status, session) =
        post(&http, api(&gh, "/signin/code/verify"), json!({ "email": email, "code": code })).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["amr"], json!(["otp"]));
    let (status, _) = read(http.delete(api(&gh, "/session")).send().await.unwrap()).await;
    assert_eq!(status, 204);
    let (status, _) = read(http.get(api(&gh, "/session")).send().await.unwrap()).await;
    assert_eq!(status, 401, "signed out");

    // Ten wrong passwords lock the account; then even the right one is refused.
    let wrong = json!({ "email": email, "password": "Not-It-000" });
    for _ in 0..9 {
        let (status, _) = post(&http, api(&gh, "/signin/password"), wrong.clone()).await;
        assert_eq!(status, 401);
    }
    let (status, body) = post(&http, api(&gh, "/signin/password"), wrong).await;
    assert_eq!((status, &body["error"]), (StatusCode::FORBIDDEN, &json!("account_locked")), "{body}");
    let right = json!({ "email": email, "password": "Reset-Done-51" });
    let (status, _) = post(&http, api(&gh, "/signin/password"), right.clone()).await;
    assert_eq!(status, 403);

    let (status, _) = post(&http, api(&gh, "/unlock"), json!({ "email": email })).await;
    assert_eq!(status, 202);
    let token =
        support::query_param(&sink.wait_for(email, WAIT).await.link("/unlock/confirm"), "token").unwrap();
    let (status, body) = post(&http, api(&gh, "/unlock/confirm"), json!({ "token": token })).await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "unlocked" })));
    let (status, _) = post(&http, api(&gh, "/signin/password"), right).await;
    assert_eq!(status, 200);
}

async fn the_served_openapi_file_describes_the_routes_that_answer(gh: &testkit::Gatehouse) {
    let http = support::browser();
    let resp = http.get(api(gh, "/openapi.json")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 16, "{paths:?}");
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resp = http.request(method.clone(), api(gh, path)).json(&json!({})).send().await.unwrap();
            let status = resp.status().as_u16();
            assert!(![404, 405].contains(&status), "{method} {path}: documented but answers {status}");
            assert!(status < 500, "{method} {path}: {status}");
        }
    }
    let (status, body) = read(http.get(api(gh, "/no-such-thing")).send().await.unwrap()).await;
    assert_eq!((status, &body["error"]), (StatusCode::NOT_FOUND, &json!("not_found")));
}

async fn resend_code_on_the_page_is_throttled(gh: &testkit::Gatehouse) {
    let http = support::browser();
    let (csrf, _) = support::form_page(&http, &format!("{}/signin", gh.base_url)).await;
    let select = [("csrf", csrf.as_str()), ("email", "carol@example.org"), ("method", "email")];
    let (status, html) = support::post_form(&http, format!("{}/signin/method", gh.base_url), &select).await;
    assert_eq!(status, 200);
    assert!(html.contains("Verify with your email") && html.contains("Resend code"), "{html}");
    let (status, html) = support::post_form(&http, format!("{}/signin/method", gh.base_url), &select).await;
    assert_eq!(status, 429);
    assert!(html.contains("We sent an email to this address a moment ago"), "{html}");
    assert!(html.contains("Verify with your email"), "the code page stays: {html}");
}

async fn mail_that_fails_is_retried_until_it_is_delivered(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let email = "dave@example.org";
    support::create_user(&gh, email);
    sink.set_failing(true);
    let (status, _) =
        post(&support::browser(), api(&gh, "/password/forgot"), json!({ "email": email })).await;
    assert_eq!(status, 202, "the request does not wait for the mail server");
    sink.assert_none_for(email, Duration::from_secs(3)).await;
    sink.set_failing(false);
    // The first retry is 10 s after the failed attempt.
    let mail = sink.wait_for(email, Duration::from_secs(30)).await;
    assert_eq!(mail.subject, "Reset your password");
    assert_eq!(sink.messages().len(), 1, "delivered once");
}

crate::per_backend!(
    sign_up_verify_sign_in_edit_change_password_and_delete,
    forgot_password_code_sign_in_lockout_and_unlock,
    mail_that_fails_is_retried_until_it_is_delivered,
);

mod served {
    use super::{
        resend_code_on_the_page_is_throttled, the_served_openapi_file_describes_the_routes_that_answer,
    };
    crate::on_both_backends!(
        the_served_openapi_file_describes_the_routes_that_answer,
        resend_code_on_the_page_is_throttled
    );
}
