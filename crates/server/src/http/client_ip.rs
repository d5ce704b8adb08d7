//! The client's address, for rate limits and the audit trail.
//!
//! `X-Forwarded-For` is believed only from the proxies named in `http.trusted_proxies`: the
//! address is the TCP peer, unless the peer is a trusted proxy, in which case it is the
//! right-most `X-Forwarded-For` entry that is not itself a trusted proxy (each proxy appends the
//! address it saw, so entries to the left of that one are whatever the client chose to send).
//! With no trusted proxies (the default) the header is ignored: a client cannot pick the
//! address its limits are counted under.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The networks whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8`-style networks and bare addresses; `Err` names the bad entry.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("\"{entry}\" is not an address or a network like 10.0.0.0/8"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address for a connection from `peer` carrying these `X-Forwarded-For` values.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let hops = forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>();
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) if self.contains(ip) => client = canonical(ip),
                Ok(ip) => return canonical(ip),
                // A malformed entry: trust nothing to its left.
                Err(_) => return client,
            }
        }
        client
    }
}

/// An IPv4-mapped IPv6 address as IPv4, so `10.0.0.0/8` matches a dual-stack listener's peer.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client address of a request (see the module doc).
pub fn of(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded: Vec<&str> =
        req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    Some(trusted.client(peer, &forwarded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("198.51.100.9"), &["203.0.113.1"]), ip("198.51.100.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8".into(), "192.0.2.5".into()]).unwrap();
        // The client forged the first entry; the proxy appended what it saw.
        assert_eq!(trusted.client(ip("10.1.2.3"), &["1.1.1.1, 203.0.113.7"]), ip("203.0.113.7"));
        // Two proxies in a row, over two header lines.
        assert_eq!(trusted.client(ip("10.1.2.3"), &["203.0.113.7", "192.0.2.5"]), ip("203.0.113.7"));
        // A peer outside the list is the client, whatever it sends.
        assert_eq!(trusted.client(ip("198.51.100.9"), &["203.0.113.7"]), ip("198.51.100.9"));
        // No header from a trusted proxy: the proxy itself.
        assert_eq!(trusted.client(ip("10.1.2.3"), &[]), ip("10.1.2.3"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(trusted.client(ip("10.1.2.3"), &["203.0.113.7, junk"]), ip("10.1.2.3"));
        assert_eq!(trusted.client(ip("::ffff:10.1.2.3"), &["203.0.113.7"]), ip("203.0.113.7"));
    }

    #[test]
    fn a_bad_entry_is_named() {
        let error = TrustedProxies::parse(&["10.0.0.0/8".into(), "proxy.internal".into()]).unwrap_err();
        assert!(error.contains("proxy.internal"), "{error}");
    }
}
