//! The authorization response and error response: redirects to the client (RFC 6749 §4.1.2,
//! §4.1.2.1), with `iss` (RFC 9207 §2) so a client can tell which server answered.

use url::form_urlencoded::Serializer;

use crate::error::OAuthError;

/// `redirect_uri` with `code`, `state` (if the request had one) and `iss` added to its query.
pub fn success_redirect(redirect_uri: &str, code: &str, state: Option<&str>, issuer: &str) -> String {
    let mut q = Serializer::new(String::new());
    q.append_pair("code", code);
    // RFC 6749 §4.1.2: state is REQUIRED in the response "if the "state" parameter was present
    // in the client authorization request"; the exact value received.
    if let Some(state) = state {
        q.append_pair("state", state);
    }
    q.append_pair("iss", issuer);
    append_query(redirect_uri, &q.finish())
}

/// `redirect_uri` with `error`, `error_description`, `state` and `iss` added to its query
/// (RFC 6749 §4.1.2.1, RFC 9207 §2: iss in error responses too).
pub fn error_redirect(redirect_uri: &str, err: &OAuthError, state: Option<&str>, issuer: &str) -> String {
    let mut q = Serializer::new(String::new());
    q.append_pair("error", err.code.as_str());
    q.append_pair("error_description", &err.description);
    if let Some(state) = state {
        q.append_pair("state", state);
    }
    q.append_pair("iss", issuer);
    append_query(redirect_uri, &q.finish())
}

/// RFC 6749 §3.1.2: the endpoint URI "MAY include an application/x-www-form-urlencoded
/// formatted … query component, which MUST be retained when adding additional query
/// parameters". Done on the string, so the registered URI is kept byte for byte. Registered
/// URIs carry no fragment (checked at registration, §3.1.2).
fn append_query(uri: &str, query: &str) -> String {
    let sep = match uri.find('?') {
        None => "?",
        Some(_) if uri.ends_with('?') || uri.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{uri}{sep}{query}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    const ISS: &str = "https://id.example.org";

    fn query(url: &str) -> Vec<(String, String)> {
        url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn success_adds_code_state_and_iss() {
        let url = success_redirect("https://a.example/cb", "c0de", Some("s t&=x"), ISS);
        assert!(url.starts_with("https://a.example/cb?code=c0de&"));
        assert_eq!(query(&url), pairs(&[("code", "c0de"), ("state", "s t&=x"), ("iss", ISS)]));
    }

    #[test]
    fn success_keeps_the_existing_query_and_omits_absent_state() {
        let url = success_redirect("https://a.example/cb?tenant=atl&x=1", "c", None, ISS);
        assert!(url.starts_with("https://a.example/cb?tenant=atl&x=1&code=c"));
        assert_eq!(query(&url), pairs(&[("tenant", "atl"), ("x", "1"), ("code", "c"), ("iss", ISS)]));
        let url = success_redirect("https://a.example/cb?", "c", None, ISS);
        assert_eq!(url, "https://a.example/cb?code=c&iss=https%3A%2F%2Fid.example.org");
    }

    #[test]
    fn private_use_scheme_is_kept_verbatim() {
        let url = success_redirect("com.example.app:/cb", "c", Some("s"), ISS);
        assert_eq!(url, "com.example.app:/cb?code=c&state=s&iss=https%3A%2F%2Fid.example.org");
    }

    #[test]
    fn error_adds_error_description_state_and_iss() {
        let err = OAuthError::new(ErrorCode::LoginRequired, "sign in needed");
        let url = error_redirect("https://a.example/cb?keep=1", &err, Some("xyz"), ISS);
        assert_eq!(
            query(&url),
            pairs(&[
                ("keep", "1"),
                ("error", "login_required"),
                ("error_description", "sign in needed"),
                ("state", "xyz"),
                ("iss", ISS),
            ])
        );
    }
}
