//! Sign-up with email verification, and claiming accounts an operator imported, over real SMTP.

use std::time::Duration;

use testkit::{Gatehouse, SmtpSink};

use crate::support::{self, Backend, PASSWORD};

const WAIT: Duration = Duration::from_secs(15);

async fn sign_up(gh: &Gatehouse, email: &str, password: &str) -> (u16, String) {
    let http = support::browser();
    let (csrf, _) = support::form_page(&http, &format!("{}/signup", gh.base_url)).await;
    let form = [
        ("csrf", csrf.as_str()),
        ("email", email),
        ("given_name", "Betty"),
        ("family_name", "Rubble"),
        ("password", password),
        ("repeat", password),
    ];
    support::post_form(&http, format!("{}/signup", gh.base_url), &form).await
}

/// Follows the verification mail's link and presses "Verify email"; returns the final page.
async fn verify(gh: &Gatehouse, sink: &SmtpSink, email: &str) -> (u16, String, String) {
    let mail = sink.wait_for(email, WAIT).await;
    assert_eq!(mail.subject, "Verify your email address");
    let link = mail.link("/verify-email");
    let http = support::browser();
    let (csrf, html) = support::form_page(&http, &link).await;
    assert!(html.contains("Verify email"), "{html}");
    let token = support::hidden(&html, "token");
    let (status, html) = support::post_form(
        &http,
        format!("{}/verify-email", gh.base_url),
        &[("csrf", &csrf), ("token", &token)],
    )
    .await;
    (status, html, link)
}

async fn signs_in(gh: &Gatehouse, email: &str, password: &str) -> bool {
    support::password_sign_in(gh, &support::browser(), email, password).await.0 == 200
}

/// The userinfo a client gets for `email` through the whole code flow.
async fn userinfo(gh: &Gatehouse, client: &support::TestClient, email: &str) -> serde_json::Value {
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid profile email"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = support::sign_in_for_code(&support::browser(), gh, &url, email).await;
    let tokens: serde_json::Value =
        support::redeem(gh, client, &support::query_param(&back, "code").unwrap(), &verifier)
            .await
            .json()
            .await
            .unwrap();
    reqwest::Client::new()
        .get(format!("{}/userinfo", gh.base_url))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn sign_up_verifies_the_email_before_the_account_exists(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let http = support::browser();
    let (csrf, html) = support::form_page(&http, &format!("{}/signin", gh.base_url)).await;
    assert!(html.contains("have an account?") && html.contains("href=\"/signup\""), "{html}");
    let (_, html) = support::form_page(&http, &format!("{}/signup", gh.base_url)).await;
    assert!(
        html.contains("Password requirements:") && html.contains("At least 8 characters"),
        "rules before typing"
    );
    // Every problem at once, nothing sent.
    let (status, html) = support::post_form(
        &http,
        format!("{}/signup", gh.base_url),
        &[
            ("csrf", &csrf),
            ("email", "betty@example.org"),
            ("given_name", ""),
            ("family_name", "Rubble"),
            ("password", "rubble"),
            ("repeat", "rubble"),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(html.contains("This field cannot be left blank") && html.contains("uppercase"), "{html}");
    sink.assert_none_for("betty@example.org", Duration::from_millis(500)).await;

    let (status, html) = sign_up(&gh, "betty@example.org", PASSWORD).await;
    assert_eq!(status, 200);
    assert!(html.contains("Email sent!"), "{html}");
    assert!(!signs_in(&gh, "betty@example.org", PASSWORD).await, "no account before verification");
    let (status, html, link) = verify(&gh, &sink, "betty@example.org").await;
    assert_eq!(status, 200);
    assert!(html.contains("Your email is verified"), "{html}");
    assert!(signs_in(&gh, "betty@example.org", PASSWORD).await);
    assert_eq!(support::browser().get(&link).send().await.unwrap().status(), 410, "the link works once");
    let users = gh.cli_json(&["user", "list"]);
    assert_eq!(users[0]["email_verified"], true);
    assert_eq!(users[0]["name"], "Betty Rubble");
}

async fn sign_up_with_a_taken_email_changes_nothing(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    support::create_user(&gh, "taken@example.org");
    let (status, html) = sign_up(&gh, "taken@example.org", "Another-Pass-9").await;
    assert_eq!(status, 200);
    assert!(html.contains("Email sent!"), "the same answer as for a new address");
    let (_, html, _) = verify(&gh, &sink, "taken@example.org").await;
    assert!(html.contains("You already have an account"), "{html}");
    assert!(signs_in(&gh, "taken@example.org", PASSWORD).await);
    assert!(!signs_in(&gh, "taken@example.org", "Another-Pass-9").await);
}

async fn imported_account_is_claimed_with_its_attributes(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let csv = gh.data_dir.join("legacy.csv");
    std::fs::write(
        &csv,
        "email,given_name,family_name,license_account\nbetty@example.org,Betty,Rubble,LIC-2020-77\n",
    )
    .unwrap();
    let out = gh.cli_json(&["user", "import", csv.to_str().unwrap()]);
    assert_eq!(out["imported"], 1);
    let imported_id = gh.cli_json(&["user", "list"])[0]["id"].as_str().unwrap().to_owned();
    assert!(!signs_in(&gh, "betty@example.org", PASSWORD).await, "an imported account has no password");
    // Importing again changes nothing.
    assert_eq!(gh.cli_json(&["user", "import", csv.to_str().unwrap()])["imported"], 0);

    sign_up(&gh, "betty@example.org", PASSWORD).await;
    let (_, html, _) = verify(&gh, &sink, "betty@example.org").await;
    assert!(html.contains("Your email is verified"), "{html}");
    let users = gh.cli_json(&["user", "list"]);
    assert_eq!(users.as_array().unwrap().len(), 1, "claimed, not duplicated");

    let licensing = support::create_client(&gh, &["--claim", "license_account"]);
    let info = userinfo(&gh, &licensing, "betty@example.org").await;
    assert_eq!(info["sub"], imported_id.as_str(), "the imported record was claimed");
    assert_eq!(info["license_account"], "LIC-2020-77");
    let other = support::create_client(&gh, &[]);
    let info = userinfo(&gh, &other, "betty@example.org").await;
    assert!(info.get("license_account").is_none(), "only clients allowed to see it: {info}");
}

async fn a_bad_import_file_changes_nothing(backend: Backend) {
    let (gh, _sink) = support::start_with_mail(backend, &[]).await;
    let csv = gh.data_dir.join("bad.csv");
    std::fs::write(&csv, "email,given_name\ngood@example.org,Good\nnot-an-email,Bad\n").unwrap();
    let out = gh.cli(&["user", "import", csv.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert_eq!(gh.cli_json(&["user", "list"]).as_array().unwrap().len(), 0);
}

crate::per_backend!(
    sign_up_verifies_the_email_before_the_account_exists,
    sign_up_with_a_taken_email_changes_nothing,
    imported_account_is_claimed_with_its_attributes,
    a_bad_import_file_changes_nothing,
);
