//! Which `iss` an upstream's ID tokens must carry.
//!
//! Usually the discovery document's `issuer` equals the configured issuer (OIDC Discovery
//! §4.3) and the ID token's `iss` must equal it (OIDC Core §3.1.3.7 step 2). Microsoft's
//! multi-tenant endpoints (`…/common/v2.0`, `…/organizations/v2.0`, `…/consumers/v2.0`) publish
//! the template `https://login.microsoftonline.com/{tenantid}/v2.0`; Microsoft documents that a
//! token is then checked by putting its `tid` claim into the template
//! (https://learn.microsoft.com/entra/identity-platform/access-tokens#validate-the-issuer).

use crate::FederationError;

const TENANT_PLACEHOLDER: &str = "{tenantid}";

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum IssuerRule {
    /// `iss` equals this (the library checks it).
    Exact(String),
    /// `iss` equals this template with the token's `tid` in place of `{tenantid}`.
    TenantTemplate(String),
}

impl IssuerRule {
    /// Accepts the discovered issuer when it is the configured one, or a `{tenantid}`
    /// template on the configured issuer's host.
    pub(crate) fn from_discovery(configured: &str, discovered: &str) -> Result<Self, FederationError> {
        let trim = |s: &str| s.trim_end_matches('/').to_owned();
        if trim(discovered) == trim(configured) {
            return Ok(Self::Exact(discovered.to_owned()));
        }
        let host = |s: &str| url::Url::parse(s).ok().and_then(|u| u.host_str().map(str::to_owned));
        if discovered.contains(TENANT_PLACEHOLDER)
            && host(discovered).is_some()
            && host(discovered) == host(configured)
        {
            return Ok(Self::TenantTemplate(discovered.to_owned()));
        }
        Err(FederationError::Upstream(format!(
            "discovery names issuer {discovered}, not the configured {configured} (OIDC Discovery §4.3)"
        )))
    }

    /// Microsoft's identity platform, whose ID tokens say "verified" with `xms_edov`.
    pub(crate) fn is_microsoft(&self) -> bool {
        let (Self::Exact(iss) | Self::TenantTemplate(iss)) = self;
        url::Url::parse(iss).is_ok_and(|u| u.host_str() == Some("login.microsoftonline.com"))
    }

    pub(crate) fn is_exact(&self) -> bool {
        matches!(self, Self::Exact(_))
    }

    /// The tenant case of OIDC Core §3.1.3.7 step 2; the exact case was checked already.
    pub(crate) fn check(&self, iss: &str, tid: Option<&str>) -> Result<(), FederationError> {
        match self {
            Self::Exact(_) => Ok(()),
            Self::TenantTemplate(template) => {
                let tid = tid
                    .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
                    .ok_or_else(|| FederationError::InvalidIdToken("no usable tid claim".into()))?;
                if template.replace(TENANT_PLACEHOLDER, tid) == iss {
                    Ok(())
                } else {
                    Err(FederationError::InvalidIdToken(format!("iss {iss} does not match tenant {tid}")))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMON: &str = "https://login.microsoftonline.com/common/v2.0";
    const TEMPLATE: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";
    const TID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

    #[test]
    fn the_configured_issuer_must_be_the_discovered_one() {
        assert!(
            IssuerRule::from_discovery("https://accounts.google.com", "https://accounts.google.com")
                .unwrap()
                .is_exact()
        );
        assert!(IssuerRule::from_discovery("https://accounts.google.com", "https://evil.example").is_err());
    }

    #[test]
    fn microsoft_common_uses_the_tenant_template() {
        let rule = IssuerRule::from_discovery(COMMON, TEMPLATE).unwrap();
        assert!(!rule.is_exact() && rule.is_microsoft());
        let iss = format!("https://login.microsoftonline.com/{TID}/v2.0");
        assert_eq!(rule.check(&iss, Some(TID)), Ok(()));
        assert!(rule.check(&iss, Some("72f988bf-86f1-41af-91ab-2d7cd011db47")).is_err());
        assert!(rule.check(&iss, None).is_err());
        assert!(rule.check("https://login.microsoftonline.com/x/y/v2.0", Some("x/y")).is_err());
    }

    #[test]
    fn a_template_on_another_host_is_refused() {
        assert!(IssuerRule::from_discovery(COMMON, "https://evil.example/{tenantid}/v2.0").is_err());
    }
}
