//! Routes: one file per endpoint, each a thin handler that parses, calls one domain
//! operation, and renders.

mod admin;
pub mod api;
mod authorize;
pub mod discovery;
pub(crate) mod federation;
mod forgot;
mod health;
mod introspect;
mod logout;
mod metrics;
mod par;
mod profile;
mod reset;
mod revoke;
pub(crate) mod signin;
mod signout;
mod signup;
pub(crate) mod token;
mod unlock;
mod userinfo;
mod verify;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};

/// Where Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

/// A page or form that carries an emailed link's token (reset, unlock, email verification).
#[derive(serde::Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub token: String,
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(health::live))
        .route("/health/ready", web::get().to(health::ready))
        .route(METRICS_PATH, web::get().to(metrics::get))
        .service(cross_origin(
            web::resource("/.well-known/openid-configuration").route(web::get().to(discovery::configuration)),
        ))
        .service(cross_origin(web::resource(discovery::JWKS_PATH).route(web::get().to(discovery::jwks))))
        .route("/static/gatehouse.css", web::get().to(discovery::stylesheet))
        .route(authorize::PATH, web::get().to(authorize::get))
        .route(authorize::PATH, web::post().to(authorize::post))
        .service(
            web::resource(authorize::CONSENT_PATH)
                .app_data(signin::form_config())
                .route(web::post().to(authorize::consent)),
        )
        // RFC 9126: for servers (confidential clients); it takes no cookies.
        .service(
            web::resource(par::PATH)
                .app_data(web::PayloadConfig::new(16 * 1024))
                .route(web::post().to(par::post)),
        )
        .service(cross_origin(
            web::resource(token::PATH).app_data(token::form_config()).route(web::post().to(token::post)),
        ))
        // Public clients may revoke their own tokens from the browser (RFC 7009 §2.1, §5);
        // introspection is for servers.
        .service(cross_origin(
            web::resource(revoke::PATH).app_data(token::form_config()).route(web::post().to(revoke::post)),
        ))
        .service(
            web::resource(introspect::PATH)
                .app_data(token::form_config())
                .route(web::post().to(introspect::post)),
        )
        .service(cross_origin(
            web::resource(userinfo::PATH)
                .app_data(userinfo::form_config())
                .route(web::get().to(userinfo::get))
                .route(web::post().to(userinfo::post)),
        ))
        .service(
            web::scope("/signin")
                .app_data(signin::form_config())
                .route("", web::get().to(signin::email_page))
                .route("/identify", web::post().to(signin::identify))
                .route("/method", web::post().to(signin::method))
                .route("/password", web::post().to(signin::password::submit))
                .route("/code", web::post().to(signin::code::submit)),
        )
        .service(
            web::scope("/federation")
                .app_data(federation::query_config())
                .app_data(federation::form_config())
                .route("/{provider}/start", web::get().to(federation::start))
                .route("/{provider}/callback", web::get().to(federation::callback))
                .route("/{provider}/callback", web::post().to(federation::callback_post)),
        )
        .service(
            web::scope("/password")
                .app_data(signin::form_config())
                .route("/forgot", web::get().to(forgot::page))
                .route("/forgot", web::post().to(forgot::submit))
                .route("/reset", web::get().to(reset::page))
                .route("/reset", web::post().to(reset::submit)),
        )
        .service(
            web::resource("/signup")
                .app_data(signin::form_config())
                .route(web::get().to(signup::page))
                .route(web::post().to(signup::submit)),
        )
        .service(
            web::resource("/verify-email")
                .app_data(signin::form_config())
                .route(web::get().to(verify::page))
                .route(web::post().to(verify::submit)),
        )
        .service(
            web::scope("/unlock")
                .app_data(signin::form_config())
                .route("", web::get().to(unlock::page))
                .route("", web::post().to(unlock::submit))
                .route("/confirm", web::get().to(unlock::confirm_page))
                .route("/confirm", web::post().to(unlock::confirm)),
        )
        .configure(profile::configure)
        .configure(api::configure)
        .configure(admin::configure)
        // RP-Initiated Logout 1.0: the portal's request may be a GET or a form POST.
        .route(logout::PATH, web::get().to(logout::get))
        .route(logout::PATH, web::post().to(logout::post))
        .service(
            web::resource(logout::CONFIRM_PATH)
                .app_data(signin::form_config())
                .route(web::post().to(logout::confirm)),
        )
        .service(
            web::resource(signout::PATH)
                .app_data(signin::form_config())
                .route(web::post().to(signout::submit)),
        );
}

/// Endpoints a browser-based public client calls from its own origin. They take no cookies
/// (credentials travel in the Authorization header or the body), so any origin may call them.
fn cross_origin(resource: actix_web::Resource) -> impl actix_web::dev::HttpServiceFactory {
    resource
        .route(web::method(actix_web::http::Method::OPTIONS).to(preflight))
        .wrap(DefaultHeaders::new().add((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")))
}

async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Content-Type"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish()
}
