//! Routes: one file per endpoint, each a thin handler that parses, calls one domain
//! operation, and renders.

mod authorize;
pub mod discovery;
mod forgot;
mod health;
mod signin;
mod token;
mod userinfo;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(health::live))
        .route("/health/ready", web::get().to(health::ready))
        .route("/.well-known/openid-configuration", web::get().to(discovery::configuration))
        .route(discovery::JWKS_PATH, web::get().to(discovery::jwks))
        .route("/static/gatehouse.css", web::get().to(discovery::stylesheet))
        .route(authorize::PATH, web::get().to(authorize::get))
        .route(authorize::PATH, web::post().to(authorize::post))
        .service(web::resource(token::PATH).app_data(token::form_config()).route(web::post().to(token::post)))
        .service(
            web::resource(userinfo::PATH)
                .app_data(userinfo::form_config())
                .route(web::get().to(userinfo::get))
                .route(web::post().to(userinfo::post)),
        )
        .service(
            web::scope("/signin")
                .app_data(signin::form_config())
                .route("", web::get().to(signin::email_page))
                .route("/identify", web::post().to(signin::identify))
                .route("/method", web::post().to(signin::method))
                .route("/password", web::post().to(signin::password)),
        )
        .route("/password/forgot", web::get().to(forgot::page));
}
