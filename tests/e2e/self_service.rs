//! Self-service over real SMTP: gatehouse delivers to an SMTP server on loopback, the tests read
//! the messages and follow their links and codes, as a citizen would.

use std::time::Duration;

use crate::support::{self, Backend, PASSWORD};

const WAIT: Duration = Duration::from_secs(15);

async fn forgot_password_resets_it_once_and_signs_out_everywhere(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let email = "betty@example.org";
    support::create_user(&gh, email);
    let client = support::create_client(&gh, &[]);

    // A session and a token from before the reset.
    let (verifier, challenge) = testkit::pkce::pair();
    let old_browser = support::browser();
    let url = support::authorize_url(
        &gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid email"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = support::sign_in_for_code(&old_browser, &gh, &url, email).await;
    let tokens: serde_json::Value =
        support::redeem(&gh, &client, &support::query_param(&back, "code").unwrap(), &verifier)
            .await
            .json()
            .await
            .unwrap();
    let old_access = tokens["access_token"].as_str().unwrap().to_owned();

    // "Forgot password?" from the password page: "Get a verification email", "Send me an email".
    let http = support::browser();
    let (csrf, html) =
        support::form_page(&http, &format!("{}/password/forgot?email={email}", gh.base_url)).await;
    assert!(html.contains("Get a verification email") && html.contains("Send me an email"), "{html}");
    let (status, html) = support::post_form(
        &http,
        format!("{}/password/forgot", gh.base_url),
        &[("csrf", &csrf), ("email", email)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Email sent!") && html.contains("Junk/SPAM"), "{html}");

    let mail = sink.wait_for(email, WAIT).await;
    assert_eq!(mail.subject, "Reset your password");
    assert!(mail.from.contains("Community Access Identity"), "{}", mail.from);
    assert!(mail.text.contains("ATL311.com or 404-546-0311"));
    let link = mail.link("/password/reset");

    let (csrf, html) = support::form_page(&http, &link).await;
    assert!(html.contains("Password requirements:") && html.contains("At least 8 characters"), "{html}");
    let token = support::hidden(&html, "token");
    let reset = |password: &'static str, repeat: &'static str| {
        let (http, url, csrf, token) =
            (http.clone(), format!("{}/password/reset", gh.base_url), csrf.clone(), token.clone());
        async move {
            support::post_form(
                &http,
                url,
                &[("csrf", &csrf), ("token", &token), ("password", password), ("repeat", repeat)],
            )
            .await
        }
    };
    let (status, html) = reset("New-Secret-77", "New-Secret-78").await;
    assert_eq!(status, 422);
    assert!(html.contains("do not match"), "{html}");
    let (status, html) = reset("short", "short").await;
    assert_eq!(status, 422, "a weak password is refused and the link stays valid");
    assert!(html.contains("at least 8") && html.contains("uppercase"), "every broken rule is listed: {html}");
    let (status, html) = reset(PASSWORD, PASSWORD).await;
    assert_eq!(status, 422, "the current password is in the history");
    assert!(html.to_lowercase().contains("last 10"), "{html}");
    let (status, html) = reset("New-Secret-77", "New-Secret-77").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Your password has been reset"));

    // The notice (ASVS 5.0 6.3.7): when and how, and "Forgot password?" for a citizen who did
    // not do it, leading to the page with the address filled in.
    let notice = sink.wait_for(email, WAIT).await;
    assert_eq!(notice.subject, "Your password was changed");
    assert!(notice.text.contains("was changed with a password reset link on "), "{}", notice.text);
    assert!(notice.text.contains("ATL311.com or 404-546-0311"), "{}", notice.text);
    assert!(!notice.text.contains(&token) && !notice.text.contains("New-Secret-77"), "{}", notice.text);
    let forgot = notice.link("/password/forgot");
    let (_, html) = support::form_page(&support::browser(), &forgot).await;
    assert!(html.contains("Get a verification email") && html.contains(email), "{html}");

    // The link works once.
    let resp = http.get(&link).send().await.unwrap();
    assert_eq!(resp.status(), 410);
    assert!(resp.text().await.unwrap().contains("Send me a new link"));
    // Old password refused, new accepted.
    assert_eq!(support::password_sign_in(&gh, &support::browser(), email, PASSWORD).await.0, 401);
    assert_eq!(support::password_sign_in(&gh, &support::browser(), email, "New-Secret-77").await.0, 200);
    // Every earlier session and token is gone.
    let status = reqwest::Client::new()
        .get(format!("{}/userinfo", gh.base_url))
        .bearer_auth(&old_access)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401, "tokens issued before the reset are revoked");
    let resp = old_browser.get(&url).send().await.unwrap();
    assert!(support::location(&resp).starts_with("/signin?"), "the old session was ended");
}

async fn forgot_password_for_an_unknown_email_says_the_same_and_sends_nothing(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let http = support::browser();
    let (csrf, html) = support::form_page(&http, &format!("{}/password/forgot", gh.base_url)).await;
    assert!(html.contains("Reset your password") && html.contains("Reset via Email"), "{html}");
    let (status, html) = support::post_form(
        &http,
        format!("{}/password/forgot", gh.base_url),
        &[("csrf", &csrf), ("email", "nobody@example.org")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Email sent!"));
    sink.assert_none_for("nobody@example.org", Duration::from_millis(1500)).await;
}

async fn lockout_refuses_the_right_password_until_the_unlock_link(backend: Backend) {
    let (gh, sink) =
        support::start_with_mail(backend, &[("GATEHOUSE_ACCOUNTS__LOCKOUT__MAX_FAILURES", "3")]).await;
    let email = "locked@example.org";
    support::create_user(&gh, email);
    let http = support::browser();
    for attempt in 1..=2 {
        let (status, _) = support::password_sign_in(&gh, &http, email, "Wrong-Pass-1").await;
        assert_eq!(status, 401, "attempt {attempt}");
    }
    let (status, html) = support::password_sign_in(&gh, &http, email, "Wrong-Pass-1").await;
    assert_eq!(status, 403, "the third failure locks");
    assert!(html.contains("locked") && html.contains("Unlock account?"), "{html}");
    let (status, _) = support::password_sign_in(&gh, &http, email, PASSWORD).await;
    assert_eq!(status, 403, "even the right password is refused while locked");

    let (csrf, html) = support::form_page(&http, &format!("{}/unlock", gh.base_url)).await;
    assert!(html.contains("Unlock account"));
    let (status, html) =
        support::post_form(&http, format!("{}/unlock", gh.base_url), &[("csrf", &csrf), ("email", email)])
            .await;
    assert_eq!(status, 200);
    assert!(html.contains("Email sent!"));
    let mail = sink.wait_for(email, WAIT).await;
    let link = mail.link("/unlock/confirm");
    // Fetching the link (as a mail scanner would) unlocks nothing.
    let (csrf, html) = support::form_page(&http, &link).await;
    assert_eq!(support::password_sign_in(&gh, &support::browser(), email, PASSWORD).await.0, 403);
    let token = support::hidden(&html, "token");
    let (status, html) = support::post_form(
        &http,
        format!("{}/unlock/confirm", gh.base_url),
        &[("csrf", &csrf), ("token", &token)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Your account is unlocked"));
    assert_eq!(support::password_sign_in(&gh, &support::browser(), email, PASSWORD).await.0, 200);
}

async fn emailed_code_signs_in_and_returns_to_the_portal(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let email = "oledivaladymae@gmail.com";
    support::create_user(&gh, email);
    let client = support::create_client(&gh, &[]);
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        &gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid email"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let http = support::browser();
    let resp = http.get(&url).send().await.unwrap();
    let (csrf, html) =
        support::form_page(&http, &format!("{}{}", gh.base_url, support::location(&resp))).await;
    let continue_to = support::hidden(&html, "continue");
    let (_, html) = support::post_form(
        &http,
        format!("{}/signin/identify", gh.base_url),
        &[("csrf", &csrf), ("continue", &continue_to), ("email", email)],
    )
    .await;
    assert!(html.contains("o***e@gmail.com"), "the Email method shows the masked address: {html}");
    let step = |extra: (&'static str, String)| {
        let (http, csrf, continue_to) = (http.clone(), csrf.clone(), continue_to.clone());
        let base = gh.base_url.clone();
        async move {
            let path = if extra.0 == "method" { "/signin/method" } else { "/signin/code" };
            http.post(format!("{base}{path}"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("continue", &continue_to),
                    ("email", email),
                    (extra.0, &extra.1),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let html = step(("method", "email".into())).await.text().await.unwrap();
    assert!(html.contains("Verify with your email") && html.contains("Verification code"), "{html}");
    let code = sink.wait_for(email, WAIT).await.six_digit_code();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let resp = step(("code", wrong.into())).await;
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("not valid"));
    let resp = step(("code", code.clone())).await;
    assert_eq!(resp.status(), 303, "the right code signs in");
    let resp = http.get(format!("{}{}", gh.base_url, support::location(&resp))).send().await.unwrap();
    let portal = support::location(&resp);
    let tokens: serde_json::Value =
        support::redeem(&gh, &client, &support::query_param(&portal, "code").unwrap(), &verifier)
            .await
            .json()
            .await
            .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id_token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["amr"], serde_json::json!(["otp"]));
    // The code worked once.
    assert_eq!(step(("code", code)).await.status(), 401);
}

async fn emailed_code_for_an_unknown_email_sends_nothing(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let http = support::browser();
    let (csrf, _) = support::form_page(&http, &format!("{}/signin", gh.base_url)).await;
    let (status, html) = support::post_form(
        &http,
        format!("{}/signin/method", gh.base_url),
        &[("csrf", &csrf), ("email", "ghost@example.org"), ("method", "email")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Verify with your email"));
    sink.assert_none_for("ghost@example.org", Duration::from_millis(1500)).await;
}

crate::per_backend!(
    forgot_password_resets_it_once_and_signs_out_everywhere,
    forgot_password_for_an_unknown_email_says_the_same_and_sends_nothing,
    lockout_refuses_the_right_password_until_the_unlock_link,
    emailed_code_signs_in_and_returns_to_the_portal,
    emailed_code_for_an_unknown_email_sends_nothing,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_reset_link_offers_a_new_one() {
    let (gh, sink) =
        support::start_with_mail(Backend::Sqlite, &[("GATEHOUSE_ACCOUNTS__CODES__RESET_LINK_SECS", "1")])
            .await;
    support::create_user(&gh, "late@example.org");
    let http = support::browser();
    let (csrf, _) = support::form_page(&http, &format!("{}/password/forgot", gh.base_url)).await;
    support::post_form(
        &http,
        format!("{}/password/forgot", gh.base_url),
        &[("csrf", &csrf), ("email", "late@example.org")],
    )
    .await;
    let link = sink.wait_for("late@example.org", WAIT).await.link("/password/reset");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resp = http.get(&link).send().await.unwrap();
    assert_eq!(resp.status(), 410);
    assert!(resp.text().await.unwrap().contains("This link has expired"));
}
