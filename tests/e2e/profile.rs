//! "My Profile" over real HTTP (first-edition guide step 16, 311 guide steps 8–9): the pages
//! need a session, edits are validated and reach `/userinfo`, a password change checks the
//! current password and the history and ends the other sessions, and deleting the profile
//! signs out everywhere and frees the email.

use testkit::Gatehouse;

use crate::support::{self, PASSWORD};

const NEW_PASSWORD: &str = "New-Secret-77";

/// A GET: (status, Location, body).
async fn get(http: &reqwest::Client, url: String) -> (u16, String, String) {
    let resp = http.get(url).send().await.unwrap();
    let (status, location) = (resp.status().as_u16(), support::location(&resp));
    (status, location, resp.text().await.unwrap())
}

/// A form POST: (status, Location, body).
async fn post(http: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (u16, String, String) {
    let resp = http.post(url).form(form).send().await.unwrap();
    let (status, location) = (resp.status().as_u16(), support::location(&resp));
    (status, location, resp.text().await.unwrap())
}

/// GETs a page of a signed-in browser, asserting 200; returns (csrf, html).
async fn page(gh: &Gatehouse, http: &reqwest::Client, path: &str) -> (String, String) {
    let (status, location, html) = get(http, gh.url(path)).await;
    assert_eq!(status, 200, "{path} answered {status} → {location}");
    (support::hidden(&html, "csrf"), html)
}

/// Signs in through the hosted pages the way `/profile` sends a citizen there, and follows the
/// way back. Returns the status of the password step.
async fn sign_in(gh: &Gatehouse, http: &reqwest::Client, email: &str, password: &str) -> u16 {
    let (_, _, html) = get(http, gh.url("/signin?continue=/profile")).await;
    assert_eq!(support::hidden(&html, "continue"), "/profile", "the page keeps where to return");
    let csrf = support::hidden(&html, "csrf");
    let form = [("csrf", csrf.as_str()), ("continue", "/profile"), ("email", email), ("password", password)];
    let (status, location, _) = post(http, gh.url("/signin/password"), &form).await;
    if status == 303 {
        assert_eq!(location, "/profile", "a sign-in from the profile returns there");
    }
    status
}

/// A browser signed in as `email`.
async fn signed_in(gh: &Gatehouse, email: &str) -> reqwest::Client {
    let http = support::browser();
    assert_eq!(sign_in(gh, &http, email, PASSWORD).await, 303);
    http
}

/// Whether `/profile` shows the profile (true) or sends to the sign-in (false).
async fn has_session(gh: &Gatehouse, http: &reqwest::Client) -> bool {
    let (status, location, _) = get(http, gh.url("/profile")).await;
    match status {
        200 => true,
        303 => {
            assert_eq!(location, "/signin?continue=/profile");
            false
        }
        other => panic!("/profile answered {other}"),
    }
}

async fn profile_pages_need_a_session_and_sign_in_returns_to_them(gh: &Gatehouse) {
    let email = "betty@example.org";
    support::create_user(gh, email);
    let http = support::browser();
    for (path, back) in [
        ("/profile", "/signin?continue=/profile"),
        ("/profile/edit", "/signin?continue=/profile/edit"),
        ("/profile/password", "/signin?continue=/profile/password"),
        ("/profile/delete", "/signin?continue=/profile/delete"),
    ] {
        let (status, location, _) = get(&http, gh.url(path)).await;
        assert_eq!((status, location.as_str()), (303, back), "{path}");
    }

    assert_eq!(sign_in(gh, &http, email, PASSWORD).await, 303);
    let (csrf, html) = page(gh, &http, "/profile").await;
    for text in [
        "My Profile",
        "Profile information",
        "Name",
        "Ole Mae",
        "Given name",
        "Family name",
        "Email",
        email,
        "Phone number",
        "Not provided",
        "Edit profile info",
        "Change password",
        "Delete profile",
        "Sign out",
    ] {
        assert!(html.contains(text), "no {text:?} on the profile:\n{html}");
    }

    // "Sign out" ends this session.
    let (status, _, html) = post(&http, gh.url("/signout"), &[("csrf", &csrf)]).await;
    assert_eq!(status, 200);
    assert!(html.contains("You are signed out"), "{html}");
    assert!(!has_session(gh, &http).await);
    // A form without its CSRF token changes nothing.
    let (status, _, _) = post(&http, gh.url("/signout"), &[("csrf", "forged")]).await;
    assert_eq!(status, 403);
}

async fn profile_edits_are_validated_and_reach_userinfo(gh: &Gatehouse) {
    let email = "betty@example.org";
    support::create_user(gh, email);
    let http = signed_in(gh, email).await;
    let (csrf, html) = page(gh, &http, "/profile/edit").await;
    for text in ["Given name", "Family name", "Display name", "Phone number", ">Save<", "value=\"Ole Mae\""] {
        assert!(html.contains(text), "no {text:?} on the edit page:\n{html}");
    }
    let edit = |given: &'static str, phone: &'static str| {
        let (http, url, csrf) = (http.clone(), gh.url("/profile/edit"), csrf.clone());
        async move {
            let form = [
                ("csrf", csrf.as_str()),
                ("given_name", given),
                ("family_name", "Rubble"),
                ("name", "Betty Rubble2020"),
                ("phone_number", phone),
            ];
            post(&http, url, &form).await
        }
    };

    let (status, _, html) = edit("Betty", "call 404-546-0311").await;
    assert_eq!(status, 422);
    assert!(html.contains("Phone number may contain only digits"), "{html}");
    assert!(html.contains("value=\"call 404-546-0311\"") && html.contains("value=\"Betty\""), "{html}");
    let (_, html) = page(gh, &http, "/profile").await;
    assert!(html.contains("Ole Mae") && !html.contains("Rubble"), "nothing changed: {html}");

    let (status, location, _) = edit(" Betty ", "(404) 546-0311").await;
    assert_eq!((status, location.as_str()), (303, "/profile"));
    let (_, html) = page(gh, &http, "/profile").await;
    for text in ["Betty Rubble2020", "Betty", "Rubble", "(404) 546-0311"] {
        assert!(html.contains(text), "no {text:?} on the profile:\n{html}");
    }

    // A fresh token with the profile and phone scopes carries the new values.
    let client = support::create_client(gh, &[]);
    let (verifier, challenge) = testkit::pkce::pair();
    let url = support::authorize_url(
        gh,
        &[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", &client.redirect_uri),
            ("scope", "openid profile phone"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let (status, back, _) = get(&http, url).await;
    assert_eq!(status, 302, "the session answers the authorization request at once");
    let code = support::query_param(&back, "code").unwrap();
    let tokens: serde_json::Value =
        support::redeem(gh, &client, &code, &verifier).await.json().await.unwrap();
    let claims: serde_json::Value = reqwest::Client::new()
        .get(gh.url("/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(claims["name"], "Betty Rubble2020", "{claims}");
    assert_eq!(claims["given_name"], "Betty");
    assert_eq!(claims["family_name"], "Rubble");
    assert_eq!(claims["phone_number"], "(404) 546-0311");
}

async fn a_password_change_checks_the_current_one_and_ends_the_other_sessions(gh: &Gatehouse) {
    let email = "betty@example.org";
    support::create_user(gh, email);
    let http = signed_in(gh, email).await;
    let other_browser = signed_in(gh, email).await;
    let (csrf, html) = page(gh, &http, "/profile/password").await;
    for text in ["Current password", "New password", "Repeat password", "At least 8 characters", ">Save<"] {
        assert!(html.contains(text), "no {text:?} on the password page:\n{html}");
    }
    let change = |current: &'static str, new: &'static str| {
        let (http, url, csrf) = (http.clone(), gh.url("/profile/password"), csrf.clone());
        async move {
            let form = [("csrf", csrf.as_str()), ("current", current), ("password", new), ("repeat", new)];
            post(&http, url, &form).await
        }
    };

    let (status, _, html) = change("Wrong-Pass-1", NEW_PASSWORD).await;
    assert_eq!(status, 401);
    assert!(html.contains("The current password is incorrect."), "{html}");
    let (status, _, html) = change(PASSWORD, PASSWORD).await;
    assert_eq!(status, 422, "the current password is in the history");
    assert!(html.to_lowercase().contains("last 10"), "{html}");
    assert!(has_session(gh, &other_browser).await, "a refused change ends nothing");

    let (status, _, html) = change(PASSWORD, NEW_PASSWORD).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Your password has been changed"), "{html}");
    assert!(has_session(gh, &http).await, "this browser stays signed in");
    assert!(!has_session(gh, &other_browser).await, "every other session ended");
    assert_eq!(sign_in(gh, &support::browser(), email, PASSWORD).await, 401, "the old password fails");
    assert_eq!(sign_in(gh, &support::browser(), email, NEW_PASSWORD).await, 303, "the new one works");
}

async fn deleting_the_profile_signs_out_everywhere_and_frees_the_email(gh: &Gatehouse) {
    let email = "betty@example.org";
    let id = support::create_user(gh, email);
    let http = signed_in(gh, email).await;
    let other_browser = signed_in(gh, email).await;
    // An edit first, so the trail has more than the deletion.
    let (csrf, _) = page(gh, &http, "/profile/edit").await;
    let form = [("csrf", csrf.as_str()), ("name", "Betty"), ("phone_number", "404-546-0311")];
    assert_eq!(post(&http, gh.url("/profile/edit"), &form).await.0, 303);

    let (csrf, html) = page(gh, &http, "/profile/delete").await;
    assert!(
        html.contains("This deletes your profile and signs you out everywhere. It cannot be undone."),
        "{html}"
    );
    assert!(html.contains(">Delete profile<") && html.contains(">Cancel<"), "{html}");
    let resp = http.post(gh.url("/profile/delete")).form(&[("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cleared = resp.headers().get_all("set-cookie").iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("gatehouse_session=;") && v.contains("Max-Age=0")
    });
    assert!(cleared, "the session cookie is cleared: {:?}", resp.headers());
    assert!(resp.text().await.unwrap().contains("Your profile was deleted"));

    assert!(!has_session(gh, &http).await);
    assert!(!has_session(gh, &other_browser).await, "signed out everywhere");
    assert_eq!(sign_in(gh, &support::browser(), email, PASSWORD).await, 401, "the old password fails");
    let again = gh.cli_json(&["user", "create", "--email", email, "--password", PASSWORD]);
    assert_ne!(again["id"].as_str().unwrap(), id, "the email is free: a new account");

    // The trail outlives the account, and names fields, never values or secrets.
    let trail = audit_trail(gh, &id);
    let signed_in = "sign_in.succeeded|127.0.0.1|{\"amr\":[\"pwd\"],\"idp\":null}";
    assert_eq!(trail.iter().filter(|e| *e == signed_in).count(), 2, "two browsers signed in: {trail:?}");
    assert_eq!(trail.len(), 4, "{trail:?}");
    assert!(
        trail.contains(&"profile.updated|127.0.0.1|{\"fields\":[\"name\",\"phone_number\"]}".to_owned()),
        "{trail:?}"
    );
    assert!(trail.contains(&"account.deleted|127.0.0.1|{}".to_owned()), "{trail:?}");
}

/// `kind|ip|detail` of the account's audit events, read from the database as an operator
/// would: `psql` on PostgreSQL, the `sqlite3` shell on SQLite.
fn audit_trail(gh: &Gatehouse, account_id: &str) -> Vec<String> {
    let sql = format!(
        "SELECT kind || '|' || COALESCE(ip, '') || '|' || detail FROM audit_events \
         WHERE account_id = '{account_id}' ORDER BY kind"
    );
    let out = match gh.database_url.strip_prefix("sqlite://") {
        Some(path) => {
            let output = std::process::Command::new("sqlite3")
                .args([path, &sql])
                .output()
                .unwrap_or_else(|e| panic!("cannot run sqlite3 (apt-get install sqlite3): {e}"));
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap()
        }
        None => testkit::psql(&gh.database_url, &sql),
    };
    out.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

crate::on_both_backends!(
    profile_pages_need_a_session_and_sign_in_returns_to_them,
    profile_edits_are_validated_and_reach_userinfo,
    a_password_change_checks_the_current_one_and_ends_the_other_sessions,
    deleting_the_profile_signs_out_everywhere_and_frees_the_email,
);
