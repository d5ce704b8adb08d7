//! The client's address, for rate limits and the audit trail.
//!
//! The forwarding headers are believed only from the proxies named in `http.trusted_proxies`:
//! the address is the TCP peer, unless the peer is a trusted proxy, in which case it is the
//! right-most hop of the forwarding header that is not itself a trusted proxy (each proxy
//! appends the address it saw, so hops to the left of that one are whatever the client chose to
//! send). With no trusted proxies (the default) the headers are ignored: a client cannot pick
//! the address its limits are counted under (RFC 9700 §4.13).
//!
//! Exactly one header is read, the one `http.client_ip_header` names: `X-Forwarded-For` (the
//! default) or RFC 7239 `Forwarded` (its `for=` parameter, `http/forwarded.rs`). Never both,
//! and never "whichever is present": a proxy that writes one header usually passes the other
//! through from the client untouched, so reading an unconfigured header would let the client
//! choose its address. A hop that names no address (`for=unknown`, an obfuscated
//! `for=_hidden`) or cannot be parsed stops the walk: the client is then the last trusted hop,
//! never anything to the left of it.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::http::forwarded::{self, Hop};

/// The forwarding header the trusted proxies write (`http.client_ip_header`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientIpHeader {
    #[default]
    XForwardedFor,
    /// RFC 7239.
    Forwarded,
}

impl ClientIpHeader {
    /// `x-forwarded-for` or `forwarded` (any case); `Err` says what to write instead.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            _ => Err(format!("use x-forwarded-for or forwarded, not \"{name}\"")),
        }
    }
}

/// The networks whose forwarding header is believed, and which header that is.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ClientIpHeader,
}

impl TrustedProxies {
    /// Parses `10.0.0.0/8`-style networks and bare addresses; `Err` names the bad entry.
    pub fn parse(entries: &[String], header: ClientIpHeader) -> Result<Self, String> {
        let nets = entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("\"{entry}\" is not an address or a network like 10.0.0.0/8"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { nets, header })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client address for a connection from `peer` carrying these `Forwarded` and
    /// `X-Forwarded-For` header lines; only the configured header's lines are read.
    pub fn client(&self, peer: IpAddr, forwarded: &[Option<&str>], x_forwarded_for: &[&str]) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        match self.header {
            ClientIpHeader::Forwarded => {
                let hops = forwarded::hops(forwarded.iter().copied());
                self.walk(
                    peer,
                    hops.iter().map(|hop| match hop {
                        Hop::Ip(ip) => Some(*ip),
                        Hop::Hidden | Hop::Malformed => None,
                    }),
                )
            }
            ClientIpHeader::XForwardedFor => {
                let hops =
                    x_forwarded_for.iter().flat_map(|v| v.split(',')).map(str::trim).collect::<Vec<_>>();
                self.walk(peer, hops.iter().map(|hop| hop.parse::<IpAddr>().ok()))
            }
        }
    }

    /// From the right: past trusted proxies to the first hop that is not one. A hop with no
    /// address (`None`) ends the walk at the last trusted hop: nothing to its left is believed.
    fn walk(&self, peer: IpAddr, hops: impl DoubleEndedIterator<Item = Option<IpAddr>>) -> IpAddr {
        let mut client = peer;
        for hop in hops.rev() {
            match hop.map(canonical) {
                Some(ip) if self.contains(ip) => client = ip,
                Some(ip) => return ip,
                None => return client,
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
    // A `Forwarded` line that is not text is kept, as a malformed hop.
    let forwarded: Vec<Option<&str>> = req.headers().get_all("forwarded").map(|v| v.to_str().ok()).collect();
    let x_forwarded_for: Vec<&str> =
        req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    Some(trusted.client(peer, &forwarded, &x_forwarded_for))
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
        assert_eq!(none.client(ip("198.51.100.9"), &[], &["203.0.113.1"]), ip("198.51.100.9"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let trusted = proxies(ClientIpHeader::XForwardedFor);
        // The client forged the first entry; the proxy appended what it saw.
        assert_eq!(trusted.client(ip("10.1.2.3"), &[], &["1.1.1.1, 203.0.113.7"]), ip("203.0.113.7"));
        // Two proxies in a row, over two header lines.
        assert_eq!(trusted.client(ip("10.1.2.3"), &[], &["203.0.113.7", "192.0.2.5"]), ip("203.0.113.7"));
        // A peer outside the list is the client, whatever it sends.
        assert_eq!(trusted.client(ip("198.51.100.9"), &[], &["203.0.113.7"]), ip("198.51.100.9"));
        // No header from a trusted proxy: the proxy itself.
        assert_eq!(trusted.client(ip("10.1.2.3"), &[], &[]), ip("10.1.2.3"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(trusted.client(ip("10.1.2.3"), &[], &["203.0.113.7, junk"]), ip("10.1.2.3"));
        assert_eq!(trusted.client(ip("::ffff:10.1.2.3"), &[], &["203.0.113.7"]), ip("203.0.113.7"));
    }

    fn proxies(header: ClientIpHeader) -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.0/8".into(), "192.0.2.5".into()], header).unwrap()
    }

    /// The client behind `10.1.2.3` (a trusted proxy) for these `Forwarded` lines.
    fn by_forwarded(lines: &[&str]) -> IpAddr {
        let lines: Vec<Option<&str>> = lines.iter().copied().map(Some).collect();
        proxies(ClientIpHeader::Forwarded).client(ip("10.1.2.3"), &lines, &[])
    }

    #[test]
    fn forwarded_behind_a_trusted_proxy_names_the_right_most_untrusted_hop() {
        assert_eq!(by_forwarded(&["for=203.0.113.7"]), ip("203.0.113.7"));
        // The client forged the first element; the proxy appended what it saw.
        assert_eq!(by_forwarded(&["for=1.1.1.1, for=203.0.113.7;proto=https"]), ip("203.0.113.7"));
        // Two proxies in a row, over two header lines; quoted, with ports, IPv6.
        assert_eq!(by_forwarded(&["for=\"203.0.113.7:4711\"", "for=192.0.2.5"]), ip("203.0.113.7"));
        assert_eq!(by_forwarded(&["for=\"[2001:db8::1]:4711\""]), ip("2001:db8::1"));
        assert_eq!(by_forwarded(&["for=\"[::ffff:10.9.9.9]\", for=\"[2001:db8::1]\""]), ip("2001:db8::1"));
        // A trusted proxy's own address written as IPv4-mapped IPv6 is still trusted.
        assert_eq!(by_forwarded(&["for=203.0.113.7, for=\"[::ffff:10.9.9.9]\""]), ip("203.0.113.7"));
        // A peer outside the list is the client, whatever it sends.
        let lines = [Some("for=203.0.113.7")];
        assert_eq!(
            proxies(ClientIpHeader::Forwarded).client(ip("198.51.100.9"), &lines, &[]),
            ip("198.51.100.9")
        );
        assert_eq!(TrustedProxies::default().client(ip("10.1.2.3"), &lines, &[]), ip("10.1.2.3"));
    }

    #[test]
    fn a_hidden_or_malformed_forwarded_hop_is_never_an_address() {
        // RFC 7239 §6.2 and §6.3: the proxy hides the client; the proxy is all we know.
        assert_eq!(by_forwarded(&["for=unknown"]), ip("10.1.2.3"));
        assert_eq!(by_forwarded(&["for=_hidden"]), ip("10.1.2.3"));
        // Behind two proxies: the last trusted hop, not the address left of the hidden one.
        assert_eq!(by_forwarded(&["for=203.0.113.7, for=_hidden, for=192.0.2.5"]), ip("192.0.2.5"));
        for bad in ["for=203.0.113.7:80", "for=\"203.0.113.7", "proto=https", "for=2001:db8::1", "junk", ""] {
            assert_eq!(by_forwarded(&[bad]), ip("10.1.2.3"), "{bad:?}");
        }
        // A line that is not text.
        let forwarded = proxies(ClientIpHeader::Forwarded);
        assert_eq!(forwarded.client(ip("10.1.2.3"), &[Some("for=203.0.113.7"), None], &[]), ip("10.1.2.3"));
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let forwarded = [Some("for=203.0.113.7")];
        let xff = ["198.51.100.1"];
        let by = |header| proxies(header).client(ip("10.1.2.3"), &forwarded, &xff);
        assert_eq!(by(ClientIpHeader::Forwarded), ip("203.0.113.7"));
        assert_eq!(by(ClientIpHeader::XForwardedFor), ip("198.51.100.1"));
        // The other header alone names nobody: the proxy is the client.
        let only_forwarded = proxies(ClientIpHeader::XForwardedFor).client(ip("10.1.2.3"), &forwarded, &[]);
        assert_eq!(only_forwarded, ip("10.1.2.3"));
        let only_xff = proxies(ClientIpHeader::Forwarded).client(ip("10.1.2.3"), &[], &xff);
        assert_eq!(only_xff, ip("10.1.2.3"));
    }

    #[test]
    fn the_header_setting_is_parsed() {
        assert_eq!(ClientIpHeader::parse("X-Forwarded-For"), Ok(ClientIpHeader::XForwardedFor));
        assert_eq!(ClientIpHeader::parse("forwarded"), Ok(ClientIpHeader::Forwarded));
        assert!(ClientIpHeader::parse("x-real-ip").unwrap_err().contains("x-real-ip"));
    }

    #[test]
    fn a_bad_entry_is_named() {
        let entries = ["10.0.0.0/8".into(), "proxy.internal".into()];
        let error = TrustedProxies::parse(&entries, ClientIpHeader::default()).unwrap_err();
        assert!(error.contains("proxy.internal"), "{error}");
    }
}
