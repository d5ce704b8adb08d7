//! "Connected portals" over real HTTP (ASVS 5.0 10.4.9, 10.7.3): a citizen who allowed a
//! third-party portal and let a city portal keep them signed in sees both in the profile, with
//! what each may see; removing one revokes its tokens and forgets its consent, and leaves the
//! other alone. The JSON API twin does the same.

use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::Gatehouse;

use crate::api::read;
use crate::authorize_more::{answer_consent, request, sign_in_and_return, tokens};
use crate::support::{self, TestClient};
use crate::tokens::{post_as, refresh, str_of, userinfo_status};

const EMAIL: &str = "portals@example.org";
const PORTALS: &str = "/profile/portals";

/// The browser signs in at a third-party portal ("Permit helper", openid email) and allows it;
/// its tokens.
async fn connect_third_party(http: &reqwest::Client, gh: &Gatehouse, helper: &TestClient) -> Value {
    let (url, verifier) = request(gh, helper, "openid email", &[]);
    let resp = sign_in_and_return(http, gh, &url, EMAIL).await;
    assert_eq!(resp.status(), 200, "a third-party portal asks consent");
    let back = answer_consent(http, gh, &resp.text().await.unwrap(), "allow").await;
    tokens(gh, helper, &back, &verifier).await
}

/// The signed-in browser asks `client` for `scope` and gets a code without a page; its tokens.
async fn connect_directly(http: &reqwest::Client, gh: &Gatehouse, client: &TestClient, scope: &str) -> Value {
    let (url, verifier) = request(gh, client, scope, &[]);
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    tokens(gh, client, &support::location(&resp), &verifier).await
}

async fn introspected(gh: &Gatehouse, client: &TestClient, token: &str) -> Value {
    post_as(gh, client, "/introspect", &[("token", token)]).await.1
}

/// "Connected portals" of the signed-in browser: (csrf of its forms, if it has any; html).
async fn portals_page(http: &reqwest::Client, gh: &Gatehouse) -> (String, String) {
    let resp = http.get(gh.url(PORTALS)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    let csrf = if html.contains(r#"name="csrf""#) { support::hidden(&html, "csrf") } else { String::new() };
    (csrf, html)
}

async fn remove(http: &reqwest::Client, gh: &Gatehouse, csrf: &str, client_id: &str) -> (u16, String) {
    let form = [("csrf", csrf), ("client_id", client_id)];
    support::post_form(http, gh.url("/profile/portals/remove"), &form).await
}

fn city_portal(gh: &Gatehouse) -> TestClient {
    let grants = ["--grant-type", "authorization_code", "--grant-type", "refresh_token"];
    support::create_named_client(gh, "311", &grants)
}

async fn the_profile_lists_connected_portals_and_removing_one_revokes_it(gh: &Gatehouse) {
    let helper = support::create_named_client(gh, "Permit helper", &["--third-party"]);
    let city = city_portal(gh);
    let bystander = support::create_named_client(gh, "Water bills", &[]);
    let account = support::create_user(gh, EMAIL);
    let http = support::browser();
    let helper_tokens = connect_third_party(&http, gh, &helper).await;
    let city_tokens = connect_directly(&http, gh, &city, "openid email offline_access").await;
    // A first-party portal without offline_access keeps nothing past its access token.
    connect_directly(&http, gh, &bystander, "openid").await;

    let profile = http.get(gh.url("/profile")).send().await.unwrap().text().await.unwrap();
    assert!(profile.contains(r#"<a href="/profile/portals">Connected portals</a>"#), "{profile}");
    let (csrf, html) = portals_page(&http, gh).await;
    assert!(html.contains("<h1>Connected portals</h1>"), "{html}");
    let (at_311, at_helper) =
        (html.find("<h2>311</h2>").unwrap(), html.find("<h2>Permit helper</h2>").unwrap());
    assert!(at_311 < at_helper, "sorted by name: {html}");
    assert!(!html.contains("Water bills"), "{html}");
    let (city_part, helper_part) = html[at_311..].split_at(at_helper - at_311);
    for words in ["See your email address", "Stay connected to your account when you are not using it"] {
        assert!(city_part.contains(words), "{words}: {city_part}");
    }
    assert!(city_part.contains("It can keep you signed in."), "{city_part}");
    assert!(
        helper_part.contains("Know who you are when you sign in")
            && helper_part.contains("See your email address")
    );
    assert!(helper_part.contains("It cannot keep you signed in."), "{helper_part}");
    assert!(helper_part.contains("Connected since ") && html.matches(">Remove access<").count() == 2);

    // The form needs its CSRF token; a portal that is not connected is a page, not an error.
    let (status, _) = remove(&http, gh, "forged", &city.id).await;
    assert_eq!(status, 403);
    for unknown in ["no-such-portal", bystander.id.as_str(), "", "%00<script>"] {
        let (status, page) = remove(&http, gh, &csrf, unknown).await;
        assert_eq!(status, 404, "{unknown}");
        assert!(page.contains("Portal not found") && page.contains(r#"href="/profile/portals""#), "{page}");
    }
    let (status, _) = support::post_form(&http, gh.url("/profile/portals/remove"), &[("csrf", "x")]).await;
    assert_eq!(status, 403);

    // Removing the city portal: its refresh token is refused, its access token is inactive.
    let (status, page) = remove(&http, gh, &csrf, &city.id).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Access removed") && page.contains("311 can no longer use your account."),
        "{page}"
    );
    let (status, body) = refresh(gh, &city, str_of(&city_tokens, "refresh_token"), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let city_access = str_of(&city_tokens, "access_token");
    assert_eq!(introspected(gh, &city, city_access).await, json!({"active": false}));
    assert_eq!(userinfo_status(gh, city_access).await, 401);
    let trail = support::query(
        gh,
        &format!(
            "SELECT client_id, detail FROM audit_events WHERE account_id = '{account}' AND kind = 'profile.portal_removed'"
        ),
    );
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert!(
        trail[0].starts_with(&format!("{}|", city.id)) && trail[0].contains(r#""grants_revoked":1"#),
        "{trail:?}"
    );

    // The other portal is untouched: its token works, its consent is remembered.
    assert_eq!(introspected(gh, &helper, str_of(&helper_tokens, "access_token")).await["active"], true);
    let (url, _) = request(gh, &helper, "openid email", &[]);
    let to = support::location(&http.get(&url).send().await.unwrap());
    assert!(support::query_param(&to, "code").is_some(), "{to}");
    let (csrf, html) = portals_page(&http, gh).await;
    assert!(!html.contains("<h2>311</h2>") && html.contains("<h2>Permit helper</h2>"), "{html}");

    // Removing the third-party portal: its next request asks consent again.
    let (status, _) = remove(&http, gh, &csrf, &helper.id).await;
    assert_eq!(status, 200);
    assert_eq!(
        introspected(gh, &helper, str_of(&helper_tokens, "access_token")).await,
        json!({"active": false})
    );
    let (url, _) = request(gh, &helper, "openid email", &[]);
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "consent is asked again");
    assert!(resp.text().await.unwrap().contains("Allow Permit helper to use your account?"));
    let (_, html) = portals_page(&http, gh).await;
    assert!(html.contains("No portals are connected to your account."), "{html}");

    // Not a block: signing in to the city portal again works, and it is listed again.
    let again = connect_directly(&http, gh, &city, "openid offline_access").await;
    assert_eq!(refresh(gh, &city, str_of(&again, "refresh_token"), None).await.0, 200);
    assert!(portals_page(&http, gh).await.1.contains("<h2>311</h2>"));
}

async fn the_portals_page_needs_a_session(gh: &Gatehouse) {
    let http = support::browser();
    let resp = http.get(gh.url(PORTALS)).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(support::location(&resp), "/signin?continue=/profile/portals");
}

async fn the_api_lists_and_removes_connected_portals(gh: &Gatehouse) {
    let helper = support::create_named_client(gh, "Permit helper", &["--third-party"]);
    let city = city_portal(gh);
    support::create_user(gh, EMAIL);
    let http = support::browser();
    let api = |path: &str| gh.url(&format!("/api/v1/profile/portals{path}"));
    assert_eq!(read(http.get(api("")).send().await.unwrap()).await.0, 401);
    let helper_tokens = connect_third_party(&http, gh, &helper).await;
    let city_tokens = connect_directly(&http, gh, &city, "openid offline_access").await;

    let (status, body) = read(http.get(api("")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let portals = body["portals"].as_array().unwrap();
    assert_eq!(portals.len(), 2, "{body}");
    assert_eq!((&portals[0]["name"], &portals[0]["client_id"]), (&json!("311"), &json!(city.id)));
    assert_eq!(portals[0]["scopes"], json!(["openid", "offline_access"]));
    assert_eq!(portals[0]["keeps_signed_in"], true);
    let helper_view = &portals[1];
    assert_eq!(helper_view["name"], "Permit helper");
    assert_eq!(helper_view["scopes"], json!(["openid", "email"]));
    assert_eq!(helper_view["access"], json!(["Know who you are when you sign in", "See your email address"]));
    assert_eq!(helper_view["keeps_signed_in"], false);
    assert!(helper_view["since"].as_i64().unwrap() > 1_700_000_000);

    let (status, body) = read(http.delete(api("/no-such-portal")).send().await.unwrap()).await;
    assert_eq!((status, &body["error"]), (StatusCode::NOT_FOUND, &json!("not_found")));
    let (status, body) = read(http.delete(api(&format!("/{}", helper.id))).send().await.unwrap()).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, _) = read(http.delete(api(&format!("/{}", helper.id))).send().await.unwrap()).await;
    assert_eq!(status, 404, "already removed");
    assert_eq!(
        introspected(gh, &helper, str_of(&helper_tokens, "access_token")).await,
        json!({"active": false})
    );
    let (_, body) = read(http.get(api("")).send().await.unwrap()).await;
    assert_eq!(body["portals"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(refresh(gh, &city, str_of(&city_tokens, "refresh_token"), None).await.0, 200, "untouched");
}

/// The per-account reads of the portals page use an index, not a scan of every token: SQLite's
/// planner names it; PostgreSQL (whose planner scans tables this small anyway) has it.
async fn an_accounts_tokens_are_found_by_index(gh: &Gatehouse) {
    // As `portal_facts` (by account) and `remove_portal` (by account and portal) ask.
    let lookups = [
        ("refresh_tokens", "subject = 'a' AND used_at IS NULL", "refresh_tokens_subject_client"),
        ("codes", "subject = 'a' AND client_id = 'c'", "codes_subject_client"),
    ];
    for (table, filter, index) in lookups {
        if gh.database_url.starts_with("sqlite://") {
            let sql = format!("EXPLAIN QUERY PLAN SELECT grant_id FROM {table} WHERE {filter}");
            let plan = support::query(gh, &sql).join("\n");
            assert!(plan.contains(&format!("USING INDEX {index}")), "{table}: {plan}");
        } else {
            let sql = format!("SELECT tablename, indexdef FROM pg_indexes WHERE indexname = '{index}'");
            let found = support::query(gh, &sql).join(" ");
            assert!(
                found.starts_with(&format!("{table}|")) && found.contains("(subject, client_id)"),
                "{found}"
            );
        }
    }
}

crate::on_both_backends!(
    an_accounts_tokens_are_found_by_index,
    the_profile_lists_connected_portals_and_removing_one_revokes_it,
    the_portals_page_needs_a_session,
    the_api_lists_and_removes_connected_portals,
);
