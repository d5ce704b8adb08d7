//! Refresh tokens meet the account: a lockout pauses them, a password reset ends them.

use std::time::Duration;

use crate::support::{self, Backend};
use crate::tokens::{post_as, refresh, refreshing_client, sign_in_tokens, str_of};

async fn a_locked_out_account_cannot_refresh_until_the_lock_passes(backend: Backend) {
    let gh = support::start_with(
        backend,
        &[
            ("GATEHOUSE_ACCOUNTS__LOCKOUT__MAX_FAILURES", "3"),
            ("GATEHOUSE_ACCOUNTS__LOCKOUT__COOLDOWN_SECS", "3"),
        ],
    )
    .await;
    let client = refreshing_client(&gh);
    let email = "paused@example.org";
    support::create_user(&gh, email);
    let tokens = sign_in_tokens(&gh, &client, email, "openid offline_access").await;
    let token = str_of(&tokens, "refresh_token");

    // Someone guesses the password three times: the account locks.
    for _ in 0..3 {
        support::password_sign_in(&gh, &support::browser(), email, "Wrong-Pass-1").await;
    }
    let (status, body) = refresh(&gh, &client, token, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let (_, seen) = post_as(&gh, &client, "/introspect", &[("token", token)]).await;
    assert_eq!(seen, serde_json::json!({"active": false}));

    // The cool-down lifts the lock, and the refresh token was not spent meanwhile.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (status, body) = refresh(&gh, &client, token, None).await;
    assert_eq!(status, 200, "{body}");
}

async fn a_password_reset_ends_the_refresh_tokens_issued_before_it(backend: Backend) {
    let (gh, sink) = support::start_with_mail(backend, &[]).await;
    let client = refreshing_client(&gh);
    let email = "reset-rt@example.org";
    support::create_user(&gh, email);
    let tokens = sign_in_tokens(&gh, &client, email, "openid offline_access").await;

    let http = support::browser();
    let (csrf, _) = support::form_page(&http, &format!("{}/password/forgot", gh.base_url)).await;
    support::post_form(
        &http,
        format!("{}/password/forgot", gh.base_url),
        &[("csrf", &csrf), ("email", email)],
    )
    .await;
    let link = sink.wait_for(email, Duration::from_secs(15)).await.link("/password/reset");
    let (csrf, html) = support::form_page(&http, &link).await;
    let token = support::hidden(&html, "token");
    let (status, _) = support::post_form(
        &http,
        format!("{}/password/reset", gh.base_url),
        &[("csrf", &csrf), ("token", &token), ("password", "New-Secret-77"), ("repeat", "New-Secret-77")],
    )
    .await;
    assert_eq!(status, 200);

    let (status, body) = refresh(&gh, &client, str_of(&tokens, "refresh_token"), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
}

crate::per_backend!(
    a_locked_out_account_cannot_refresh_until_the_lock_passes,
    a_password_reset_ends_the_refresh_tokens_issued_before_it,
);
