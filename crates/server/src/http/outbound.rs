//! Outbound HTTP clients (client JWKS, back-channel logouts) built on first use. Building a
//! reqwest client sets up rustls and loads and parses the system's root certificates: code and
//! memory a node that never calls out has no use for (docs/performance.md, idle RSS).

use std::sync::OnceLock;

pub struct LazyClient {
    configure: fn() -> reqwest::ClientBuilder,
    client: OnceLock<reqwest::Client>,
}

impl LazyClient {
    /// A client made from `configure()`'s builder when first asked for.
    pub const fn new(configure: fn() -> reqwest::ClientBuilder) -> LazyClient {
        LazyClient { configure, client: OnceLock::new() }
    }

    /// The client, built now if this is the first call. Two first calls at once may both
    /// build one; the first stored is kept for good.
    pub fn get(&self) -> Result<&reqwest::Client, reqwest::Error> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let built = (self.configure)().build()?;
        Ok(self.client.get_or_init(|| built))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_and_keeps_the_client() {
        let lazy = LazyClient::new(reqwest::Client::builder);
        assert!(lazy.client.get().is_none(), "built before first use");
        let first: *const reqwest::Client = lazy.get().unwrap();
        let second: *const reqwest::Client = lazy.get().unwrap();
        assert_eq!(first, second);
    }
}
