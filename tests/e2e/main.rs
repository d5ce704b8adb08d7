//! End-to-end tests of the `gatehouse` binary: each test starts the real server on a free port
//! with its own database (a SQLite file, or a fresh database on a PostgreSQL server on
//! loopback) and drives it over real HTTP, with the `openidconnect` crate as the relying party
//! and headless Chromium for the hosted pages.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a panic is a failed test")]

mod abuse;
mod admin;
mod admin_sessions;
mod api;
mod authorize_browser;
mod authorize_more;
mod bad_input;
mod browser;
mod cli;
mod client_assertion;
mod code_flow;
mod crash;
mod errors;
mod federation;
mod federation_apple_facebook;
mod idle;
mod keys;
mod log_secrets;
mod logout;
mod maintenance;
mod more_flows;
mod multinode;
mod ops;
mod portals;
mod profile;
mod races;
mod raw_http;
mod security_headers;
mod self_service;
mod sessions;
mod signup;
mod support;
mod token_accounts;
mod tokens;
mod upstream_fakes;

/// Generates one test per backend for each suite function `async fn name(gh: &Gatehouse)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let gh = $crate::support::start($crate::support::Backend::Sqlite).await;
                    super::$name(&gh).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let gh = $crate::support::start($crate::support::Backend::Postgres).await;
                    super::$name(&gh).await;
                }
            )*
        }
    };
}

/// Generates one test per backend for each suite function `async fn name(backend: Backend)`,
/// for suites that start gatehouse themselves (with extra settings or an SMTP sink).
#[macro_export]
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}
