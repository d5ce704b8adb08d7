//! Metrics: labels stay in their closed sets, counters move by one per event, gauges are read
//! at scrape time, and the scrape token is checked. The registry is process-wide and tests run
//! in parallel, so each test reads only series no other test touches, as before/after deltas.

use super::*;

/// The value of the sample line `series` (name and labels exactly as rendered), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |v| v.parse().unwrap())
}

fn scrape() -> String {
    render(&Gauges { hash_waiting: 0, hash_in_flight: 0, hash_threads: 2, outbox: None })
}

#[test]
fn unknown_values_never_become_label_values() {
    let brew = Method::from_bytes(b"BREW").unwrap();
    observe_request(&brew, None, 404, Duration::from_millis(3));
    token_issued("urn:evil\"} 1\nfake_metric{a=\"b");
    let text = scrape();
    assert!(
        text.contains(r#"gatehouse_http_requests_total{method="other",route="unmatched",status="404"}"#),
        "{text}"
    );
    assert!(sample(&text, r#"gatehouse_tokens_issued_total{grant_type="other"}"#) >= 1.0, "{text}");
    assert!(!text.contains("BREW") && !text.contains("evil") && !text.contains("fake_metric"), "{text}");
}

#[test]
fn routes_are_labelled_by_pattern_with_a_latency_histogram() {
    let series = r#"gatehouse_http_requests_total{method="DELETE",route="/test/{id}",status="204"}"#;
    let count =
        r#"gatehouse_http_request_duration_seconds_count{method="DELETE",route="/test/{id}",status="204"}"#;
    let slow = r#"gatehouse_http_request_duration_seconds_bucket{method="DELETE",route="/test/{id}",status="204",le="0.1"}"#;
    let before = scrape();
    observe_request(&Method::DELETE, Some("/test/{id}"), 204, Duration::from_millis(20));
    observe_request(&Method::DELETE, Some("/test/{id}"), 204, Duration::from_millis(400));
    let after = scrape();
    assert_eq!(sample(&after, series) - sample(&before, series), 2.0, "{after}");
    assert_eq!(sample(&after, count) - sample(&before, count), 2.0, "{after}");
    assert_eq!(sample(&after, slow) - sample(&before, slow), 1.0, "only the 20 ms request is ≤ 100 ms");
}

#[test]
fn sign_ins_and_tokens_count_by_label() {
    let locked = r#"gatehouse_sign_ins_total{method="email_code",result="locked"}"#;
    let refresh = r#"gatehouse_tokens_issued_total{grant_type="client_credentials"}"#;
    let before = scrape();
    assert!(before.contains(locked) && before.contains(refresh), "series exist at zero:\n{before}");
    sign_in(SignInMethod::EmailCode, SignInResult::Locked);
    token_issued("client_credentials");
    token_issued("client_credentials");
    let after = scrape();
    assert_eq!(sample(&after, locked) - sample(&before, locked), 1.0);
    assert_eq!(sample(&after, refresh) - sample(&before, refresh), 2.0);
}

#[test]
fn rate_limited_requests_count_by_limit_from_zero() {
    let account = r#"gatehouse_rate_limited_total{limit="account"}"#;
    let before = scrape();
    assert!(
        RATE_LIMITS
            .iter()
            .all(|l| before.contains(&format!("gatehouse_rate_limited_total{{limit=\"{l}\"}}")))
    );
    rate_limited("account");
    assert_eq!(sample(&scrape(), account) - sample(&before, account), 1.0);
}

#[test]
fn sign_in_outcomes_map_to_results() {
    use identity::SignInOutcome;
    assert_eq!(SignInResult::from(&SignInOutcome::Locked { until: 1 }), SignInResult::Locked);
    assert_eq!(SignInResult::from(&SignInOutcome::Invalid { account_id: None }), SignInResult::Failure);
}

#[test]
fn gauges_are_set_when_scraped_and_outbox_left_out_when_unknown() {
    let gauges = |outbox| Gauges { hash_waiting: 7, hash_in_flight: 2, hash_threads: 2, outbox };
    let text = render(&gauges(Some(vec![("pending".into(), 4)])));
    assert_eq!(sample(&text, "gatehouse_hash_pool_waiting"), 7.0, "{text}");
    assert_eq!(sample(&text, "gatehouse_hash_pool_in_flight"), 2.0);
    assert_eq!(sample(&text, r#"gatehouse_outbox_messages{state="pending"}"#), 4.0);
    assert!(text.contains(r#"gatehouse_outbox_messages{state="failed"} 0"#), "{text}");
    let text = render(&gauges(None));
    assert!(!text.contains("gatehouse_outbox_messages{"), "{text}");
}

#[test]
fn the_scrape_token_is_required_only_when_set() {
    assert!(authorized(None, ""));
    assert!(authorized(Some(b"Basic eDp5"), ""));
    let token = "s3cret-scrape-token-0123456789";
    assert!(authorized(Some(format!("Bearer {token}").as_bytes()), token));
    assert!(authorized(Some(format!("bearer {token}").as_bytes()), token));
    for bad in [
        None,
        Some(&b""[..]),
        Some(&b"Bearer"[..]),
        Some(&b"Bearer "[..]),
        Some(&b"Bearer s3cret-scrape-token-012345678"[..]),
        Some(&b"Bearer s3cret-scrape-token-01234567890"[..]),
        Some(&b"Basic s3cret-scrape-token-0123456789"[..]),
        Some(&b"s3cret-scrape-token-0123456789"[..]),
    ] {
        assert!(!authorized(bad, token), "{bad:?}");
    }
}
