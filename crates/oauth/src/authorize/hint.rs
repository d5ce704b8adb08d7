//! `id_token_hint` (OIDC Core §3.1.2.1): an ID token this provider issued to this client,
//! naming the End-User the client believes is signed in. Expired tokens are accepted ("the
//! ID Token … MAY be expired"); anything not signed by us, or for another client, is
//! `invalid_request`.

use tokens::{ID_TOKEN_TYP, KeySet};

use crate::error::OAuthError;
use crate::store::ClientId;

/// The `sub` of a valid hint.
pub fn hint_subject(
    keys: &KeySet,
    issuer: &str,
    client: &ClientId,
    token: &str,
) -> Result<String, OAuthError> {
    let bad = || {
        OAuthError::invalid_request("id_token_hint is not an ID token this provider issued to this client")
    };
    // An expiry of any time passes: `now` is the earliest time there is.
    let claims: serde_json::Value = keys.verify(token, ID_TOKEN_TYP, issuer, i64::MIN).map_err(|_| bad())?;
    let for_client = match &claims["aud"] {
        serde_json::Value::String(aud) => aud == client.as_str(),
        serde_json::Value::Array(auds) => auds.iter().any(|a| a.as_str() == Some(client.as_str())),
        _ => false,
    };
    match claims["sub"].as_str() {
        Some(sub) if for_client => Ok(sub.to_owned()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testgrant::{ISS, NOW, keys};
    use tokens::{Algorithm, IdTokenClaims};

    fn id_token(aud: &str, exp: i64) -> String {
        let claims = IdTokenClaims {
            iss: ISS.into(),
            sub: "acct-1".into(),
            aud: aud.into(),
            exp,
            iat: exp - 300,
            auth_time: exp - 300,
            nonce: None,
            at_hash: None,
            amr: vec![],
            sid: "s".into(),
            azp: aud.into(),
            idp: None,
        };
        keys().signer(Algorithm::Rs256).sign_jwt(ID_TOKEN_TYP, &claims).unwrap()
    }

    #[test]
    fn an_expired_hint_of_ours_names_its_subject() {
        let c = ClientId::from_stored("client-1".into());
        assert_eq!(hint_subject(keys(), ISS, &c, &id_token("client-1", NOW - 86_400)).unwrap(), "acct-1");
    }

    #[test]
    fn a_hint_for_another_client_or_issuer_or_garbage_is_invalid_request() {
        let c = ClientId::from_stored("client-1".into());
        for (token, iss) in [
            (id_token("client-2", NOW), ISS),
            (id_token("client-1", NOW), "https://other.example"),
            ("not.a.jwt".to_owned(), ISS),
        ] {
            let e = hint_subject(keys(), iss, &c, &token).unwrap_err();
            assert_eq!(e.code, crate::ErrorCode::InvalidRequest);
        }
    }
}
