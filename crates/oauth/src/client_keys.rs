//! How a client will authenticate (OIDC Core §9 `token_endpoint_auth_method`), checked at
//! registration, and the sealing of a `client_secret_jwt` client's secret.

use tokens::{ClientJwks, MasterKey, OpaqueToken, TokenError};
use url::Url;

use crate::client::RegistrationError;
use crate::store::{Client, ClientKeys};

/// The methods a client may be registered with.
pub const AUTH_METHODS: &[&str] =
    &["client_secret_basic", "client_secret_post", "private_key_jwt", "client_secret_jwt", "none"];

/// What registration decided: the method, the keys to keep, and whether a secret is issued.
pub(crate) struct Method {
    pub name: &'static str,
    pub keys: ClientKeys,
    pub secret: bool,
}

/// The method asked for (`None`: `none` for a public client, else `client_secret_basic`) with
/// the keys it needs: `private_key_jwt` exactly one of a JWKS document or an https `jwks_uri`.
pub(crate) fn method(
    asked: Option<&str>,
    public: bool,
    jwks: Option<String>,
    jwks_uri: Option<String>,
) -> Result<Method, RegistrationError> {
    let name = match asked {
        None if public => "none",
        None => "client_secret_basic",
        Some(m) => AUTH_METHODS
            .iter()
            .copied()
            .find(|known| *known == m)
            .ok_or_else(|| RegistrationError::UnknownAuthMethod(m.to_owned()))?,
    };
    // RFC 6749 §2.1: a public client has no credentials; every other method is confidential.
    if public != (name == "none") {
        return Err(RegistrationError::PublicAuthMethod(name.to_owned()));
    }
    if name != "private_key_jwt" {
        if jwks.is_some() || jwks_uri.is_some() {
            return Err(RegistrationError::KeysWithoutPrivateKeyJwt);
        }
        let secret = name != "none";
        return Ok(Method { name, keys: ClientKeys::default(), secret });
    }
    // RFC 7591 §2: "The "jwks_uri" and "jwks" parameters MUST NOT both be present".
    let keys = match (jwks, jwks_uri) {
        (Some(doc), None) => {
            ClientJwks::parse(&doc).map_err(|why| RegistrationError::InvalidJwks(why.to_owned()))?;
            ClientKeys { jwks: Some(doc), ..ClientKeys::default() }
        }
        (None, Some(uri)) => {
            check_jwks_uri(&uri)
                .map_err(|fix| RegistrationError::InvalidJwksUri { uri: uri.clone(), fix })?;
            ClientKeys { jwks_uri: Some(uri), ..ClientKeys::default() }
        }
        (None, None) | (Some(_), Some(_)) => return Err(RegistrationError::PrivateKeyJwtKeys),
    };
    Ok(Method { name, keys, secret: false })
}

/// A jwks_uri is fetched by the server: https, or plain http only to this machine (tests,
/// development), like a redirect URI (RFC 8252 §8.3).
fn check_jwks_uri(uri: &str) -> Result<(), &'static str> {
    let url = Url::parse(uri).map_err(|_| "use an absolute https URL")?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if crate::client::is_loopback(&url) => Ok(()),
        _ => Err("use https, or http on a loopback address"),
    }
}

fn secret_aad(client: &Client) -> Vec<u8> {
    format!("client_secret_jwt:{}", client.id).into_bytes()
}

/// For a `client_secret_jwt` client: keeps its secret sealed under the master key (AES-256-GCM,
/// bound to the client id), because HMAC verification needs the secret itself, not its hash.
/// Does nothing for any other method.
pub fn seal_client_secret(client: &mut Client, secret: &OpaqueToken, master: &MasterKey) {
    client.keys.sealed_secret = (client.token_endpoint_auth_method == "client_secret_jwt")
        .then(|| master.seal(secret.expose().as_bytes(), &secret_aad(client)));
}

/// The secret a `client_secret_jwt` client signs with; `None` when it has none sealed.
pub fn open_client_secret(client: &Client, master: &MasterKey) -> Option<Result<Vec<u8>, TokenError>> {
    let sealed = client.keys.sealed_secret.as_ref()?;
    Some(master.open(sealed, &secret_aad(client)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::client;

    fn jwks() -> String {
        let key = tokens::SigningKey::generate(tokens::Algorithm::Es256, 1).unwrap();
        serde_json::json!({"keys": [key.public_jwk()]}).to_string()
    }

    #[test]
    fn defaults_follow_public_and_unknown_methods_are_refused() {
        assert_eq!(method(None, true, None, None).unwrap().name, "none");
        let m = method(None, false, None, None).unwrap();
        assert!(m.secret && m.name == "client_secret_basic");
        assert!(matches!(
            method(Some("tls_client_auth"), false, None, None),
            Err(RegistrationError::UnknownAuthMethod(_))
        ));
        assert!(matches!(
            method(Some("none"), false, None, None),
            Err(RegistrationError::PublicAuthMethod(_))
        ));
        assert!(matches!(
            method(Some("private_key_jwt"), true, Some(jwks()), None),
            Err(RegistrationError::PublicAuthMethod(_))
        ));
    }

    #[test]
    fn private_key_jwt_needs_exactly_one_usable_key_source() {
        let m = method(Some("private_key_jwt"), false, Some(jwks()), None).unwrap();
        assert!(!m.secret && m.keys.jwks.is_some());
        let m = method(Some("private_key_jwt"), false, None, Some("https://rp.example/jwks".into())).unwrap();
        assert_eq!(m.keys.jwks_uri.as_deref(), Some("https://rp.example/jwks"));
        assert!(method(Some("private_key_jwt"), false, None, Some("http://127.0.0.1:9/jwks".into())).is_ok());
        for (jwks, uri) in [(None, None), (Some(jwks()), Some("https://rp.example/jwks".to_owned()))] {
            assert_eq!(
                method(Some("private_key_jwt"), false, jwks, uri).err(),
                Some(RegistrationError::PrivateKeyJwtKeys)
            );
        }
        assert!(matches!(
            method(Some("private_key_jwt"), false, Some(r#"{"keys":[]}"#.into()), None),
            Err(RegistrationError::InvalidJwks(_))
        ));
        assert!(matches!(
            method(Some("private_key_jwt"), false, None, Some("http://rp.example/jwks".into())),
            Err(RegistrationError::InvalidJwksUri { .. })
        ));
        assert_eq!(
            method(Some("client_secret_jwt"), false, Some(jwks()), None).err(),
            Some(RegistrationError::KeysWithoutPrivateKeyJwt)
        );
    }

    #[test]
    fn only_client_secret_jwt_clients_keep_a_sealed_secret() {
        let master = MasterKey::generate();
        let secret = OpaqueToken::generate();
        let mut basic = client();
        seal_client_secret(&mut basic, &secret, &master);
        assert!(basic.keys.sealed_secret.is_none() && open_client_secret(&basic, &master).is_none());
        let mut jwt = Client { token_endpoint_auth_method: "client_secret_jwt".into(), ..client() };
        seal_client_secret(&mut jwt, &secret, &master);
        assert_eq!(open_client_secret(&jwt, &master).unwrap().unwrap(), secret.expose().as_bytes());
        // Bound to the client: moved to another id it does not open.
        let moved = Client { id: crate::ClientId::from_stored("other".into()), ..jwt.clone() };
        assert!(open_client_secret(&moved, &master).unwrap().is_err());
        assert!(open_client_secret(&jwt, &MasterKey::generate()).unwrap().is_err());
    }
}
