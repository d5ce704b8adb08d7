//! Per-IP rate limits, kept in memory on each node, and the `[limits]` settings (docs/security.md,
//! "Rate limits").
//!
//! Why in memory: the token endpoint is the hot path, and issuing a JWT writes nothing to the
//! database (DESIGN.md); a shared counter would add a write per request. So each node keeps a
//! GCRA bucket per client address (the `governor` crate, one `DashMap` per class) and a
//! client spread over N nodes gets N times the quota. Per-account limits on the slow sign-in
//! paths, where one more write is noise next to argon2, use the shared `throttles` table
//! instead (`flows/password.rs`).
//!
//! Memory stays bounded: an IPv6 client is keyed by its /64 (one subscriber's prefix, so a
//! client cannot mint fresh keys from its own range), and a sweeper drops every bucket that
//! has refilled, so the map holds only the addresses seen within the last refill period.
//!
//! Which requests count is one table, by route pattern ([`class_of`]); the answer is 429 with
//! `Retry-After`, in the shape of the endpoint: RFC 6749 §5.2 JSON at `/token`, the JSON API's
//! `{error, message, retry_after}` under `/api/v1`, a friendly page on the hosted forms.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError, web};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};

use super::client_ip;
use super::error::Failure;
use crate::state::AppState;

/// The `[limits]` settings. A per-minute figure is also the burst: that many requests may come
/// at once, then one more each `60 / n` seconds. 0 turns a limit off.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitSettings {
    /// Password and typed-code sign-in attempts per client address per minute, on each node.
    pub sign_in_per_ip_per_minute: u32,
    /// Requests that send mail (sign-up, "Forgot password?", "Unlock account?", an emailed
    /// code) per client address per minute, on each node.
    pub mail_per_ip_per_minute: u32,
    /// Uses of emailed links (reset, unlock, email verification) per client address per minute,
    /// on each node.
    pub links_per_ip_per_minute: u32,
    /// Token endpoint requests per client address per minute, on each node.
    pub token_per_ip_per_minute: u32,
    /// Password and typed-code sign-in attempts per account (the email typed) per window, shared
    /// by every node (a `throttles` row).
    pub sign_in_per_account: u32,
    /// That window, in seconds.
    pub sign_in_per_account_window_secs: i64,
}

impl Default for LimitSettings {
    fn default() -> Self {
        // Generous enough for a city library's shared address and for the 50-way race tests;
        // the lockout (10 failures) stays the tighter guard on one account's password.
        Self {
            sign_in_per_ip_per_minute: 100,
            mail_per_ip_per_minute: 60,
            links_per_ip_per_minute: 60,
            token_per_ip_per_minute: 6000,
            sign_in_per_account: 60,
            sign_in_per_account_window_secs: 900,
        }
    }
}

impl LimitSettings {
    /// The per-account policy, or `None` when it is off.
    pub fn per_account(&self) -> Option<identity::ThrottlePolicy> {
        (self.sign_in_per_account > 0).then_some(identity::ThrottlePolicy {
            min_interval_secs: 0,
            max_per_window: self.sign_in_per_account,
            window_secs: self.sign_in_per_account_window_secs,
        })
    }
}

/// The requests a per-IP limit groups together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    SignIn,
    Mail,
    Links,
    Token,
}

/// Which limit a request counts against: POSTs to the routes that check a secret, send mail or
/// mint tokens. Everything else (pages, discovery, JWKS, userinfo) is not limited here.
pub fn class_of(method: &Method, pattern: &str) -> Option<Class> {
    if method != Method::POST {
        return None;
    }
    let route = pattern.strip_prefix(crate::routes::api::PREFIX).unwrap_or(pattern);
    match route {
        "/signin/password" | "/signin/code" | "/signin/code/verify" => {
            // `/signin/code` is the typed code on the pages, the request for one in the API.
            if pattern.starts_with(crate::routes::api::PREFIX) && route == "/signin/code" {
                Some(Class::Mail)
            } else {
                Some(Class::SignIn)
            }
        }
        "/signin/method" | "/signup" | "/password/forgot" | "/unlock" => Some(Class::Mail),
        "/password/reset" | "/unlock/confirm" | "/verify-email" | "/signup/verify" => Some(Class::Links),
        crate::routes::token::PATH => Some(Class::Token),
        _ => None,
    }
}

impl Class {
    /// The `limit` label of `gatehouse_rate_limited_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::Mail => "mail",
            Self::Links => "links",
            Self::Token => "token",
        }
    }
}

type Limiter = DefaultKeyedRateLimiter<IpAddr>;

/// One in-memory limiter per class; `None` where the setting is 0.
pub struct RateLimits {
    sign_in: Option<Limiter>,
    mail: Option<Limiter>,
    links: Option<Limiter>,
    token: Option<Limiter>,
}

impl RateLimits {
    pub fn new(settings: &LimitSettings) -> Self {
        let limiter =
            |per_minute: u32| NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)));
        Self {
            sign_in: limiter(settings.sign_in_per_ip_per_minute),
            mail: limiter(settings.mail_per_ip_per_minute),
            links: limiter(settings.links_per_ip_per_minute),
            token: limiter(settings.token_per_ip_per_minute),
        }
    }

    fn limiter(&self, class: Class) -> Option<&Limiter> {
        match class {
            Class::SignIn => self.sign_in.as_ref(),
            Class::Mail => self.mail.as_ref(),
            Class::Links => self.links.as_ref(),
            Class::Token => self.token.as_ref(),
        }
    }

    /// Counts one request of `class` from `ip`: `Err(seconds)` to wait when over the limit.
    pub fn check(&self, class: Class, ip: IpAddr) -> Result<(), i64> {
        let Some(limiter) = self.limiter(class) else {
            return Ok(());
        };
        limiter.check_key(&key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            (wait.as_secs() as i64 + i64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Drops the buckets that have refilled; what is left is the addresses seen recently.
    pub fn sweep(&self) {
        for limiter in [&self.sign_in, &self.mail, &self.links, &self.token].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Addresses currently tracked, over every class (for tests and metrics).
    pub fn tracked(&self) -> usize {
        [&self.sign_in, &self.mail, &self.links, &self.token].into_iter().flatten().map(|l| l.len()).sum()
    }
}

/// An IPv4 address as is; an IPv6 address by its /64 (an IPv4-mapped one as IPv4).
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// Sweeps the limiters every minute, for as long as the server runs.
pub async fn sweep_forever(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        state.limits.sweep();
    }
}

/// The middleware: answers 429 before the handler runs (and before the body is read) when the
/// client address is over its limit for the route's class.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let class = req.match_pattern().and_then(|p| class_of(req.method(), &p).map(|c| (c, p)));
    let limited = match (class, req.app_data::<web::Data<AppState>>()) {
        (Some((class, pattern)), Some(state)) => client_ip::of(req.request(), &state.trusted_proxies)
            .and_then(|ip| state.limits.check(class, ip).err())
            .map(|retry_after| (class, pattern, retry_after)),
        _ => None,
    };
    if let Some((class, pattern, retry_after)) = limited {
        tracing::info!(limit = class.as_str(), route = %pattern, retry_after, "rate limited");
        super::metrics::rate_limited(class.as_str());
        return Ok(req.into_response(too_many(&pattern, retry_after)));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The 429 for a route, in its shape.
fn too_many(pattern: &str, retry_after: i64) -> HttpResponse {
    if pattern == crate::routes::token::PATH {
        // RFC 6749 defines no code for this; RFC 6585 §4 gives the status, and `invalid_request`
        // is the §5.2 code a client library already handles. `Retry-After` says when to return.
        let error =
            oauth::OAuthError::new(oauth::ErrorCode::InvalidRequest, "too many requests; retry later");
        let mut response = super::error::oauth_json(StatusCode::TOO_MANY_REQUESTS, &error);
        if let Ok(value) = header::HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    if pattern.starts_with(crate::routes::api::PREFIX) {
        return crate::routes::api::ApiError::too_many(retry_after).response();
    }
    Failure::TooManyRequests { retry_after }.error_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(per_minute: u32) -> LimitSettings {
        LimitSettings { sign_in_per_ip_per_minute: per_minute, ..LimitSettings::default() }
    }

    #[test]
    fn a_burst_passes_and_the_next_request_waits() {
        let limits = RateLimits::new(&settings(3));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limits.check(Class::SignIn, ip), Ok(()));
        }
        let wait = limits.check(Class::SignIn, ip).unwrap_err();
        assert!((1..=20).contains(&wait), "one request per 20 s refills: {wait}");
        // Another address and another class are counted apart.
        assert_eq!(limits.check(Class::SignIn, "203.0.113.8".parse().unwrap()), Ok(()));
        assert_eq!(limits.check(Class::Mail, ip), Ok(()));
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let limits = RateLimits::new(&settings(0));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        assert!((0..1000).all(|_| limits.check(Class::SignIn, ip).is_ok()));
    }

    #[test]
    fn an_ipv6_client_is_one_key_per_64() {
        let limits = RateLimits::new(&settings(1));
        assert_eq!(limits.check(Class::SignIn, "2001:db8:1:2::1".parse().unwrap()), Ok(()));
        assert!(limits.check(Class::SignIn, "2001:db8:1:2:ffff::9".parse().unwrap()).is_err());
        assert_eq!(limits.check(Class::SignIn, "2001:db8:1:3::1".parse().unwrap()), Ok(()));
        assert_eq!(key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn sweeping_forgets_refilled_buckets() {
        let limits = RateLimits::new(&LimitSettings { token_per_ip_per_minute: 60_000, ..settings(1) });
        for i in 0..50u8 {
            let _ = limits.check(Class::Token, IpAddr::from([198, 51, 100, i]));
        }
        assert_eq!(limits.tracked(), 50);
        // A 60,000/min bucket refills one request in 1 ms.
        std::thread::sleep(Duration::from_millis(5));
        limits.sweep();
        assert_eq!(limits.tracked(), 0);
    }

    #[test]
    fn the_routes_that_check_secrets_send_mail_or_mint_tokens_are_classed() {
        let post = Method::POST;
        assert_eq!(class_of(&post, "/signin/password"), Some(Class::SignIn));
        assert_eq!(class_of(&post, "/signin/code"), Some(Class::SignIn));
        assert_eq!(class_of(&post, "/api/v1/signin/code/verify"), Some(Class::SignIn));
        assert_eq!(class_of(&post, "/api/v1/signin/code"), Some(Class::Mail));
        assert_eq!(class_of(&post, "/signin/method"), Some(Class::Mail));
        assert_eq!(class_of(&post, "/api/v1/password/forgot"), Some(Class::Mail));
        assert_eq!(class_of(&post, "/unlock/confirm"), Some(Class::Links));
        assert_eq!(class_of(&post, "/api/v1/signup/verify"), Some(Class::Links));
        assert_eq!(class_of(&post, "/token"), Some(Class::Token));
        assert_eq!(class_of(&Method::GET, "/signin/password"), None);
        assert_eq!(class_of(&post, "/introspect"), None);
        assert_eq!(class_of(&post, "/signin/identify"), None);
    }
}
