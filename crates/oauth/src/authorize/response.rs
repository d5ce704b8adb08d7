//! The authorization response and error response: redirects to the client (RFC 6749 §4.1.2,
//! §4.1.2.1), with `iss` (RFC 9207 §2) so a client can tell which server answered; or, for
//! `response_mode=form_post`, the same parameters POSTed by the browser (OAuth 2.0 Form Post
//! Response Mode §2).

use url::form_urlencoded::Serializer;

use crate::error::OAuthError;

/// How the response parameters reach the client (OAuth 2.0 Multiple Response Types §2.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResponseMode {
    /// In the redirect URI's query (the code flow's default).
    #[default]
    Query,
    /// As a form the browser POSTs to the redirect URI.
    FormPost,
}

impl ResponseMode {
    pub fn parse(s: &str) -> Option<ResponseMode> {
        match s {
            "query" => Some(Self::Query),
            "form_post" => Some(Self::FormPost),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::FormPost => "form_post",
        }
    }
}

/// An authorization response (success or error) for the browser to carry to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizationResponse {
    /// A 302 to this URL.
    Redirect(String),
    /// A page whose form POSTs `fields` to `action` (Form Post Response Mode §2).
    FormPost { action: String, fields: Vec<(String, String)> },
}

impl AuthorizationResponse {
    /// The successful response: `code`, `state` (if the request had one), `iss`.
    pub fn success(
        mode: ResponseMode,
        redirect_uri: &str,
        code: &str,
        state: Option<&str>,
        issuer: &str,
    ) -> Self {
        match mode {
            ResponseMode::Query => Self::Redirect(success_redirect(redirect_uri, code, state, issuer)),
            ResponseMode::FormPost => {
                let mut fields = vec![("code", code)];
                fields.extend(state.map(|s| ("state", s)));
                fields.push(("iss", issuer));
                Self::form(redirect_uri, &fields)
            }
        }
    }

    /// The error response: `error`, `error_description`, `state`, `iss`.
    pub fn error(
        mode: ResponseMode,
        redirect_uri: &str,
        err: &OAuthError,
        state: Option<&str>,
        issuer: &str,
    ) -> Self {
        match mode {
            ResponseMode::Query => Self::Redirect(error_redirect(redirect_uri, err, state, issuer)),
            ResponseMode::FormPost => {
                let mut fields =
                    vec![("error", err.code.as_str()), ("error_description", err.description.as_str())];
                fields.extend(state.map(|s| ("state", s)));
                fields.push(("iss", issuer));
                Self::form(redirect_uri, &fields)
            }
        }
    }

    fn form(action: &str, fields: &[(&str, &str)]) -> Self {
        // Form Post §2: the parameters are the form's fields; the redirect URI, query included,
        // is the form's action.
        let fields = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self::FormPost { action: action.to_owned(), fields }
    }
}

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
pub(crate) fn append_query(uri: &str, query: &str) -> String {
    // The query is everything after the first '?'; a later '?' is part of it (RFC 3986 §3.4),
    // so "cb?x=?" needs a '&' like any other non-empty query.
    let sep = match uri.split_once('?') {
        None => "?",
        Some((_, existing)) if existing.is_empty() || existing.ends_with('&') => "",
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

    /// Found by fuzz/fuzz_targets/redirect_uri.rs (fuzz/regressions/redirect_uri/query-ending-in-question-mark):
    /// a registered query ending in '?' swallowed the name of `code`.
    #[test]
    fn a_query_that_ends_in_a_question_mark_still_gets_a_separator() {
        let url = success_redirect("com.example.app:/cb?next=?", "c", Some("s"), ISS);
        assert_eq!(url, "com.example.app:/cb?next=?&code=c&state=s&iss=https%3A%2F%2Fid.example.org");
        assert_eq!(query(&url), pairs(&[("next", "?"), ("code", "c"), ("state", "s"), ("iss", ISS)]));
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
    fn form_post_carries_the_same_parameters_as_fields() {
        let ok = AuthorizationResponse::success(
            ResponseMode::FormPost,
            "https://a.example/cb?x=1",
            "c",
            Some("s"),
            ISS,
        );
        assert_eq!(
            ok,
            AuthorizationResponse::FormPost {
                action: "https://a.example/cb?x=1".into(),
                fields: pairs(&[("code", "c"), ("state", "s"), ("iss", ISS)]),
            }
        );
        let err = OAuthError::new(ErrorCode::AccessDenied, "no");
        let AuthorizationResponse::FormPost { fields, .. } =
            AuthorizationResponse::error(ResponseMode::FormPost, "https://a.example/cb", &err, None, ISS)
        else {
            panic!("a form");
        };
        assert_eq!(fields, pairs(&[("error", "access_denied"), ("error_description", "no"), ("iss", ISS)]));
        assert!(matches!(
            AuthorizationResponse::success(ResponseMode::Query, "https://a.example/cb", "c", None, ISS),
            AuthorizationResponse::Redirect(u) if u.starts_with("https://a.example/cb?code=c")
        ));
        assert_eq!(ResponseMode::parse("form_post").map(ResponseMode::as_str), Some("form_post"));
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
