//! Client registration: the rules a client must meet before it reaches the store.

use tokens::{Algorithm, OpaqueToken};
use url::{Host, Url};

use crate::claims::SUPPORTED_SCOPES;
use crate::store::{Client, ClientId};

/// The grant types a client may be registered for.
pub const SUPPORTED_GRANT_TYPES: &[&str] = &["authorization_code", "refresh_token", "client_credentials"];

/// What an operator asks for (CLI `client create`, admin API).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientRegistration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Where gatehouse POSTs a logout token when a session this client took part in ends
    /// (OpenID Connect Back-Channel Logout 1.0 §2.2).
    pub backchannel_logout_uri: Option<String>,
    /// A public client (a native or browser app, RFC 6749 §2.1) gets no secret.
    pub public: bool,
    /// Empty means `["authorization_code"]`.
    pub grant_types: Vec<String>,
    /// Empty means every supported scope; `openid` is always added.
    pub scopes: Vec<String>,
    /// `None` means `RS256` (OIDC Dynamic Registration §2).
    pub id_token_signed_response_alg: Option<String>,
    /// Imported account attributes (e.g. a legacy license-account number) this client may
    /// receive as userinfo claims.
    pub extra_claims: Vec<String>,
    /// RFC 8707 resource indicators (absolute URIs) of the APIs this client may ask
    /// `client_credentials` tokens for.
    pub audiences: Vec<String>,
    /// Seconds; `None` means the deployment's `tokens.refresh_token_idle_ttl`.
    pub refresh_token_idle_ttl: Option<i64>,
    /// Seconds; `None` means the deployment's `tokens.refresh_token_absolute_ttl`.
    pub refresh_token_absolute_ttl: Option<i64>,
    /// Not a city portal: its End-Users are asked for consent (`authorize::consent`).
    pub third_party: bool,
    /// RFC 9126 §6: authorization requests only through `/par`.
    pub require_par: bool,
    /// OIDC Core §9; `None`: `none` for a public client, else `client_secret_basic`.
    pub token_endpoint_auth_method: Option<String>,
    /// `private_key_jwt` keys by value: a JWKS document (RFC 7591 §2 `jwks`).
    pub jwks: Option<String>,
    /// `private_key_jwt` keys by reference (RFC 7591 §2 `jwks_uri`).
    pub jwks_uri: Option<String>,
}

/// Why a registration was refused. Each message is one line that names the bad value and says
/// what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("client name is empty: give the client a name")]
    EmptyName,
    #[error("no redirect URI: register at least one redirect URI")]
    NoRedirectUri,
    #[error("invalid redirect URI {uri:?}: {fix}")]
    InvalidRedirectUri { uri: String, fix: &'static str },
    #[error("invalid post-logout redirect URI {uri:?}: {fix}")]
    InvalidPostLogoutRedirectUri { uri: String, fix: &'static str },
    #[error("invalid back-channel logout URI {uri:?}: {fix}")]
    InvalidBackchannelLogoutUri { uri: String, fix: &'static str },
    #[error("unknown grant type {0:?}: use authorization_code, refresh_token or client_credentials")]
    UnknownGrantType(String),
    #[error("grant type client_credentials is for confidential clients only: drop --public")]
    PublicClientCredentials,
    #[error("grant type refresh_token needs authorization_code too: add --grant-type authorization_code")]
    RefreshWithoutCode,
    #[error("unknown scope {0:?}: use openid, profile, email, phone or offline_access")]
    UnknownScope(String),
    #[error("scope offline_access needs the refresh_token grant: add --grant-type refresh_token")]
    OfflineAccessWithoutRefresh,
    #[error(
        "invalid audience {0:?}: use an absolute URI without a fragment, such as https://api.example.org/"
    )]
    InvalidAudience(String),
    #[error("invalid {0}: use a positive number of seconds")]
    InvalidLifetime(&'static str),
    #[error("unsupported id_token_signed_response_alg {0:?}: use RS256 or ES256")]
    UnsupportedAlgorithm(String),
    #[error("invalid extra claim {0:?}: use lower-case letters, digits and _, not a standard claim name")]
    InvalidExtraClaim(String),
    #[error(
        "unknown token endpoint auth method {0:?}: use client_secret_basic, client_secret_post, \
         private_key_jwt, client_secret_jwt or none"
    )]
    UnknownAuthMethod(String),
    #[error("auth method {0:?} does not fit the client kind: none is for public clients (--public) only")]
    PublicAuthMethod(String),
    #[error(
        "private_key_jwt needs the client's public keys: give exactly one of --jwks FILE or --jwks-uri URL"
    )]
    PrivateKeyJwtKeys,
    #[error("--jwks and --jwks-uri are for private_key_jwt only: add --auth-method private_key_jwt")]
    KeysWithoutPrivateKeyJwt,
    #[error("invalid JWKS: {0}")]
    InvalidJwks(String),
    #[error("invalid jwks_uri {uri:?}: {fix}")]
    InvalidJwksUri { uri: String, fix: &'static str },
}

/// Validates a registration and builds the client to store. A confidential client also gets
/// its secret, to be shown once: only its hash is kept (a `client_secret_jwt` client's is also
/// sealed, by the caller, with [`crate::seal_client_secret`]).
pub fn register(
    reg: ClientRegistration,
    now: i64,
) -> Result<(Client, Option<OpaqueToken>), RegistrationError> {
    let name = reg.name.trim();
    if name.is_empty() {
        return Err(RegistrationError::EmptyName);
    }
    let grant_types = grant_types(reg.grant_types, reg.public)?;
    // RFC 6749 §3.1.2: only the authorization code flow redirects back to the client.
    if reg.redirect_uris.is_empty() && grant_types.iter().any(|g| g == "authorization_code") {
        return Err(RegistrationError::NoRedirectUri);
    }
    for uri in &reg.redirect_uris {
        check_redirect_uri(uri)
            .map_err(|fix| RegistrationError::InvalidRedirectUri { uri: uri.clone(), fix })?;
    }
    for uri in &reg.post_logout_redirect_uris {
        check_redirect_uri(uri)
            .map_err(|fix| RegistrationError::InvalidPostLogoutRedirectUri { uri: uri.clone(), fix })?;
    }
    if let Some(uri) = &reg.backchannel_logout_uri {
        crate::logout::check_backchannel_uri(uri)
            .map_err(|fix| RegistrationError::InvalidBackchannelLogoutUri { uri: uri.clone(), fix })?;
    }
    for claim in &reg.extra_claims {
        if !is_extra_claim_name(claim) {
            return Err(RegistrationError::InvalidExtraClaim(claim.clone()));
        }
    }
    let refresh = grant_types.iter().any(|g| g == "refresh_token");
    let scopes = scopes(reg.scopes, refresh)?;
    for aud in &reg.audiences {
        // RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
        if Url::parse(aud).map_or(true, |u| u.fragment().is_some()) {
            return Err(RegistrationError::InvalidAudience(aud.clone()));
        }
    }
    for (name, ttl) in [
        ("refresh token idle lifetime", reg.refresh_token_idle_ttl),
        ("refresh token absolute lifetime", reg.refresh_token_absolute_ttl),
    ] {
        if ttl.is_some_and(|t| t <= 0) {
            return Err(RegistrationError::InvalidLifetime(name));
        }
    }
    let alg = match reg.id_token_signed_response_alg.as_deref() {
        None => Algorithm::Rs256,
        Some(s) => Algorithm::parse(s).ok_or_else(|| RegistrationError::UnsupportedAlgorithm(s.into()))?,
    };
    // RFC 6749 §2.3.1: a confidential client gets a password; a public one authenticates with
    // `none` and relies on PKCE (RFC 7636); a `private_key_jwt` client proves itself with its
    // own keys and gets none (OIDC Core §9).
    let method = crate::client_keys::method(
        reg.token_endpoint_auth_method.as_deref(),
        reg.public,
        reg.jwks,
        reg.jwks_uri,
    )?;
    let secret = method.secret.then(OpaqueToken::generate);
    let client = Client {
        id: ClientId::generate(),
        name: name.to_owned(),
        secret_hash: secret.as_ref().map(OpaqueToken::hash),
        redirect_uris: dedup(reg.redirect_uris),
        post_logout_redirect_uris: dedup(reg.post_logout_redirect_uris),
        backchannel_logout_uri: reg.backchannel_logout_uri,
        grant_types,
        scopes,
        token_endpoint_auth_method: method.name.to_owned(),
        keys: method.keys,
        id_token_signed_response_alg: alg.as_str().to_owned(),
        extra_claims: dedup(reg.extra_claims),
        created_at: now,
        refresh_token_idle_ttl: reg.refresh_token_idle_ttl,
        refresh_token_absolute_ttl: reg.refresh_token_absolute_ttl,
        audiences: dedup(reg.audiences),
        first_party: !reg.third_party,
        require_pushed_authorization_requests: reg.require_par,
    };
    Ok((client, secret))
}

/// An imported attribute's claim name: `[a-z][a-z0-9_]*`, and never one of the claims gatehouse
/// asserts itself (a spreadsheet column named `email` must not override the verified email).
pub fn is_extra_claim_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 64
        && !crate::claims::SUPPORTED_CLAIMS.contains(&name)
        && !["iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid"].contains(&name)
}

/// A redirect URI rule violation, as the fix to apply.
fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    // RFC 3986 §2: a URI is printable US-ASCII without spaces. `Url::parse` would forgive more
    // (it drops tabs and newlines, encodes the rest), but the URI is matched and redirected to
    // byte for byte, and a Location header cannot carry those characters.
    if !uri.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("percent-encode spaces, control and non-ASCII characters");
    }
    // RFC 6749 §3.1.2: "The redirection endpoint URI MUST be an absolute URI".
    let url =
        Url::parse(uri).map_err(|_| "use an absolute URI such as https://portal.example.org/callback")?;
    // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
    if url.fragment().is_some() {
        return Err("remove the fragment (#...)");
    }
    match url.scheme() {
        "https" => Ok(()),
        // RFC 8252 §7.3 (loopback redirection) and §8.3: plain http only to this machine.
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err("use https, or http on a loopback address"),
        // RFC 8252 §7.1: private-use URI schemes are reverse domain names, so they contain a dot.
        s if s.contains('.') => Ok(()),
        _ => Err("use https, or http on a loopback address"),
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn grant_types(requested: Vec<String>, public: bool) -> Result<Vec<String>, RegistrationError> {
    if requested.is_empty() {
        return Ok(vec!["authorization_code".to_owned()]);
    }
    if let Some(g) = requested.iter().find(|g| !SUPPORTED_GRANT_TYPES.contains(&g.as_str())) {
        return Err(RegistrationError::UnknownGrantType(g.clone()));
    }
    let has = |g: &str| requested.iter().any(|r| r == g);
    // RFC 6749 §4.4: "The client credentials grant type MUST only be used by confidential
    // clients."
    if public && has("client_credentials") {
        return Err(RegistrationError::PublicClientCredentials);
    }
    // Refresh tokens are issued by the code exchange only.
    if has("refresh_token") && !has("authorization_code") {
        return Err(RegistrationError::RefreshWithoutCode);
    }
    Ok(dedup(requested))
}

/// Scopes a client may ask for. `offline_access` (OIDC Core §11) goes with the refresh_token
/// grant: by default exactly when the client has it.
fn scopes(requested: Vec<String>, refresh: bool) -> Result<Vec<String>, RegistrationError> {
    if requested.is_empty() {
        return Ok(SUPPORTED_SCOPES
            .iter()
            .filter(|s| refresh || **s != "offline_access")
            .map(|s| (*s).to_owned())
            .collect());
    }
    if let Some(bad) = requested.iter().find(|s| !SUPPORTED_SCOPES.contains(&s.as_str())) {
        return Err(RegistrationError::UnknownScope(bad.clone()));
    }
    if !refresh && requested.iter().any(|s| s == "offline_access") {
        return Err(RegistrationError::OfflineAccessWithoutRefresh);
    }
    // Every authorization request must ask for `openid` (this is an OpenID provider), so a
    // client without it could never sign anyone in: it is implied.
    let mut out = vec!["openid".to_owned()];
    out.extend(requested);
    Ok(dedup(out))
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(v.len());
    for s in v {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(redirect: &str) -> ClientRegistration {
        ClientRegistration {
            name: "311 portal".into(),
            redirect_uris: vec![redirect.into()],
            ..Default::default()
        }
    }

    fn err(r: ClientRegistration) -> RegistrationError {
        register(r, 100).unwrap_err()
    }

    #[test]
    fn extra_claims_are_plain_names_that_cannot_shadow_standard_claims() {
        let mut r = reg("https://311.example.org/cb");
        r.extra_claims = vec!["license_account".into(), "license_account".into()];
        assert_eq!(register(r, 100).unwrap().0.extra_claims, ["license_account"]);
        for bad in ["email", "sub", "email_verified", "Licence", "1st", "a-b", ""] {
            let mut r = reg("https://311.example.org/cb");
            r.extra_claims = vec![bad.into()];
            assert!(matches!(err(r), RegistrationError::InvalidExtraClaim(_)), "{bad}");
        }
    }

    #[test]
    fn confidential_client_gets_defaults_and_a_hashed_secret() {
        let (c, secret) = register(reg("https://311.example.org/cb"), 100).unwrap();
        let secret = secret.unwrap();
        assert!(c.secret_hash.as_ref().unwrap().matches(secret.expose()));
        assert_ne!(c.secret_hash.as_ref().unwrap().as_str(), secret.expose());
        assert_eq!(c.token_endpoint_auth_method, "client_secret_basic");
        assert_eq!(c.grant_types, ["authorization_code"]);
        assert_eq!(c.scopes, ["openid", "profile", "email", "phone"]);
        assert_eq!(c.id_token_signed_response_alg, "RS256");
        assert_eq!(c.created_at, 100);
        assert_eq!(c.name, "311 portal");
    }

    #[test]
    fn public_client_has_no_secret_and_auth_method_none() {
        let mut r = reg("com.example.app:/cb");
        r.public = true;
        let (c, secret) = register(r, 1).unwrap();
        assert!(secret.is_none());
        assert!(c.secret_hash.is_none());
        assert_eq!(c.token_endpoint_auth_method, "none");
    }

    #[test]
    fn name_and_a_redirect_uri_are_required() {
        let mut r = reg("https://a.example/cb");
        r.name = "  ".into();
        assert_eq!(err(r), RegistrationError::EmptyName);
        let mut r = reg("https://a.example/cb");
        r.redirect_uris.clear();
        assert_eq!(err(r), RegistrationError::NoRedirectUri);
    }

    #[test]
    fn accepted_redirect_uris() {
        for ok in [
            "https://portal.example.org/callback?x=1",
            "http://127.0.0.1:8400/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(register(reg(ok), 1).is_ok(), "{ok}");
        }
    }

    /// The property fuzz/fuzz_targets/redirect_uri.rs checks (inputs kept in
    /// fuzz/regressions/redirect_uri/): a registered URI must fit a Location header unchanged.
    #[test]
    fn redirect_uris_with_whitespace_controls_or_non_ascii_are_rejected() {
        for bad in [
            "https://a.example/cb\n",
            "https://a.example/c\tb",
            "https://a.example/caf\u{e9}",
            " https://a.example/cb",
        ] {
            let err = register(reg(bad), 0).unwrap_err();
            assert!(err.to_string().contains("percent-encode"), "{bad:?}: {err}");
        }
        assert!(register(reg("https://a.example/caf%C3%A9"), 0).is_ok());
    }

    #[test]
    fn rejected_redirect_uris_name_the_value_and_the_fix() {
        for (bad, fix) in [
            ("ftp://x", "use https, or http on a loopback address"),
            ("http://portal.example.org/cb", "use https, or http on a loopback address"),
            ("http://127.0.0.2/cb", "use https, or http on a loopback address"),
            ("javascript:alert(1)", "use https, or http on a loopback address"),
            ("/callback", "use an absolute URI such as https://portal.example.org/callback"),
            ("https://a.example/cb#frag", "remove the fragment (#...)"),
            ("https://a.example/cb#", "remove the fragment (#...)"),
        ] {
            let e = err(reg(bad));
            assert_eq!(e, RegistrationError::InvalidRedirectUri { uri: bad.into(), fix }, "{bad}");
        }
        assert_eq!(
            err(reg("ftp://x")).to_string(),
            r#"invalid redirect URI "ftp://x": use https, or http on a loopback address"#
        );
    }

    #[test]
    fn post_logout_redirect_uris_follow_the_same_rules() {
        let mut r = reg("https://a.example/cb");
        r.post_logout_redirect_uris = vec!["https://a.example/bye".into(), "http://a.example/".into()];
        let e = err(r);
        assert!(matches!(e, RegistrationError::InvalidPostLogoutRedirectUri { ref uri, .. }
            if uri == "http://a.example/"));
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn a_backchannel_logout_uri_is_checked_and_kept() {
        let mut r = reg("https://a.example/cb");
        r.backchannel_logout_uri = Some("https://a.example/bc".into());
        assert_eq!(register(r, 1).unwrap().0.backchannel_logout_uri.as_deref(), Some("https://a.example/bc"));
        let mut r = reg("https://a.example/cb");
        r.backchannel_logout_uri = Some("http://a.example/bc".into());
        assert!(matches!(err(r), RegistrationError::InvalidBackchannelLogoutUri { .. }));
    }

    #[test]
    fn refresh_token_and_client_credentials_grants_are_accepted_with_their_rules() {
        let mut r = reg("https://a.example/cb");
        r.grant_types = vec!["authorization_code".into(), "refresh_token".into()];
        let (c, _) = register(r, 1).unwrap();
        assert_eq!(c.grant_types, ["authorization_code", "refresh_token"]);
        assert_eq!(c.scopes, ["openid", "profile", "email", "phone", "offline_access"]);

        let mut r = reg("https://a.example/cb");
        r.grant_types = vec!["refresh_token".into()];
        assert_eq!(err(r), RegistrationError::RefreshWithoutCode);

        let mut r = reg("https://a.example/cb");
        r.redirect_uris.clear();
        r.grant_types = vec!["client_credentials".into()];
        r.audiences = vec!["https://permits.example/api".into()];
        let (c, secret) = register(r, 1).unwrap();
        assert!(secret.is_some());
        assert_eq!(c.audiences, ["https://permits.example/api"]);
        assert!(c.redirect_uris.is_empty());

        let mut r = reg("https://a.example/cb");
        r.public = true;
        r.grant_types = vec!["client_credentials".into()];
        assert_eq!(err(r), RegistrationError::PublicClientCredentials);

        let mut r = reg("https://a.example/cb");
        r.grant_types = vec!["implicit".into()];
        assert_eq!(err(r), RegistrationError::UnknownGrantType("implicit".into()));
    }

    #[test]
    fn offline_access_needs_the_refresh_grant_and_is_not_a_default_without_it() {
        let (c, _) = register(reg("https://a.example/cb"), 1).unwrap();
        assert!(!c.scopes.contains(&"offline_access".to_owned()));
        let mut r = reg("https://a.example/cb");
        r.scopes = vec!["email".into(), "offline_access".into()];
        assert_eq!(err(r), RegistrationError::OfflineAccessWithoutRefresh);
    }

    #[test]
    fn audiences_are_absolute_uris_and_lifetimes_positive() {
        for bad in ["permits", "/api", "https://a.example/#x"] {
            let mut r = reg("https://a.example/cb");
            r.audiences = vec![bad.into()];
            assert_eq!(err(r), RegistrationError::InvalidAudience(bad.into()));
        }
        let mut r = reg("https://a.example/cb");
        r.refresh_token_idle_ttl = Some(0);
        assert!(matches!(err(r), RegistrationError::InvalidLifetime(_)));
        let mut r = reg("https://a.example/cb");
        r.refresh_token_absolute_ttl = Some(3600);
        assert_eq!(register(r, 1).unwrap().0.refresh_token_absolute_ttl, Some(3600));
    }

    #[test]
    fn scopes_must_be_supported_and_openid_is_implied() {
        let mut r = reg("https://a.example/cb");
        r.scopes = vec!["email".into(), "email".into()];
        let (c, _) = register(r, 1).unwrap();
        assert_eq!(c.scopes, ["openid", "email"]);
        let mut r = reg("https://a.example/cb");
        r.scopes = vec!["openid".into(), "address".into()];
        assert_eq!(err(r), RegistrationError::UnknownScope("address".into()));
    }

    #[test]
    fn id_token_alg_is_rs256_or_es256() {
        let mut r = reg("https://a.example/cb");
        r.id_token_signed_response_alg = Some("ES256".into());
        assert_eq!(register(r, 1).unwrap().0.id_token_signed_response_alg, "ES256");
        for bad in ["HS256", "none", "rs256"] {
            let mut r = reg("https://a.example/cb");
            r.id_token_signed_response_alg = Some(bad.into());
            assert_eq!(err(r), RegistrationError::UnsupportedAlgorithm(bad.into()));
        }
    }
}
