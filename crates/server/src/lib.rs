//! The composition root: settings, start-up, HTTP routes with thin handlers, the hosted
//! sign-in pages, browser sessions and CSRF, and the operator commands the CLI calls.
//! Business rules live in the domain crates (`identity`, `tokens`, `oauth`); storage in
//! `store`. Flows that cross domains are in `flows/`.

pub mod commands;
mod flows;
mod http;
mod import;
pub mod keys;
mod pages;
mod routes;
pub mod settings;
pub mod startup;
mod state;

pub use identity::AccountRegistration;
pub use oauth::ClientRegistration;
pub use settings::Settings;

/// Runs a future on the actix runtime (what `serve` and the async commands need).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}
