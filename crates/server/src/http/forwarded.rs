//! The RFC 7239 `Forwarded` header, as far as the client address needs it: the `for=` node of
//! each hop. Parsing only; whom to believe is `client_ip`'s rule.
//!
//! Strict where it matters: a value that is not exactly what §4 and §6 allow is
//! [`Hop::Malformed`], never an address. The list is split at every comma, quoted or not:
//! a node never holds a comma, so a quoted comma can only break an element into pieces that
//! fail to parse, and a client's junk to the left (an unclosed quote, say) cannot swallow the
//! elements the proxies appended to its right.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What one forwarded-element says about the address it received the request from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hop {
    /// An IP address (a port, if given, dropped).
    Ip(IpAddr),
    /// `for=unknown` or an obfuscated identifier like `_hidden` (§6.2, §6.3): the proxy knows
    /// the client but does not say.
    Hidden,
    /// No `for=`, a repeated one, or anything §4 or §6 does not allow.
    Malformed,
}

/// The hops of the request's `Forwarded` lines, in order (RFC 9110 §5.3: several lines are one
/// comma-separated list). A line that is not text (`None`) is one malformed hop. Empty list
/// elements are ignored (RFC 9110 §5.6.1).
pub fn hops<'a>(lines: impl IntoIterator<Item = Option<&'a str>>) -> Vec<Hop> {
    lines
        .into_iter()
        .flat_map(|line| match line {
            Some(line) => line.split(',').map(str::trim).filter(|e| !e.is_empty()).map(hop).collect(),
            None => vec![Hop::Malformed],
        })
        .collect()
}

/// One forwarded-element.
fn hop(element: &str) -> Hop {
    match for_value(element) {
        Ok(Some(node_text)) => node(&node_text),
        Ok(None) | Err(()) => Hop::Malformed,
    }
}

/// §4: `forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )`,
/// `forwarded-pair = token "=" value`, `value = token / quoted-string`; parameter names are
/// case-insensitive and "MUST NOT occur more than once". Whitespace around `;` is tolerated.
fn for_value(element: &str) -> Result<Option<String>, ()> {
    let mut found = None;
    let mut rest = element;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Ok(found);
        }
        if let Some(after) = rest.strip_prefix(';') {
            rest = after;
            continue;
        }
        let (name, after) = token(rest)?;
        let after = after.strip_prefix('=').ok_or(())?;
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => quoted_string(quoted)?,
            None => token(after).map(|(t, a)| (t.to_owned(), a))?,
        };
        if name.eq_ignore_ascii_case("for") {
            if found.is_some() {
                return Err(());
            }
            found = Some(value);
        }
        rest = after.trim_start_matches([' ', '\t']);
        if !rest.is_empty() && !rest.starts_with(';') {
            return Err(());
        }
    }
}

/// RFC 9110 §5.6.2: `token = 1*tchar`.
fn token(s: &str) -> Result<(&str, &str), ()> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let end = s.find(|c| !is_tchar(c)).unwrap_or(s.len());
    if end == 0 {
        return Err(());
    }
    Ok(s.split_at(end))
}

/// RFC 9110 §5.6.4, after the opening quote: the unescaped text and what follows the closing
/// quote.
fn quoted_string(s: &str) -> Result<(String, &str), ()> {
    let mut text = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((text, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, escaped)) if escaped == '\t' || !escaped.is_control() => text.push(escaped),
                _ => return Err(()),
            },
            c if c == '\t' || !c.is_control() => text.push(c),
            _ => return Err(()),
        }
    }
    // No closing quote.
    Err(())
}

/// §6: `node = nodename [ ":" node-port ]`, `nodename = IPv4address / "[" IPv6address "]" /
/// "unknown" / obfnode`.
fn node(text: &str) -> Hop {
    let (name, port) = match text.strip_prefix('[') {
        Some(v6) => {
            let Some((address, after)) = v6.split_once(']') else { return Hop::Malformed };
            let port = match after {
                "" => None,
                _ => match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return Hop::Malformed,
                },
            };
            match address.parse::<Ipv6Addr>() {
                Ok(ip) => (Ok(IpAddr::V6(ip)), port),
                Err(_) => return Hop::Malformed,
            }
        }
        None => {
            let (name, port) = match text.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (text, None),
            };
            (name.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| name), port)
        }
    };
    // `node-port = port / obfport`, `port = 1*5DIGIT`.
    let port_ok = port.is_none_or(|p| {
        (!p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())) || obfuscated(p)
    });
    match (name, port_ok) {
        (_, false) => Hop::Malformed,
        (Ok(ip), true) => Hop::Ip(ip),
        (Err(name), true) if name.eq_ignore_ascii_case("unknown") || obfuscated(name) => Hop::Hidden,
        (Err(_), true) => Hop::Malformed,
    }
}

/// §6.3: `obfnode = "_" 1*( ALPHA / DIGIT / "." / "_" / "-")` (and `obfport` alike).
fn obfuscated(s: &str) -> bool {
    s.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Vec<Hop> {
        hops([Some(line)])
    }

    fn ip(s: &str) -> Hop {
        Hop::Ip(s.parse().unwrap())
    }

    #[test]
    fn the_examples_of_rfc_7239_parse() {
        // §4 and §7.4.
        assert_eq!(one(r#"for="_gazonk""#), [Hop::Hidden]);
        assert_eq!(one(r#"For="[2001:db8:cafe::17]:4711""#), [ip("2001:db8:cafe::17")]);
        assert_eq!(one("for=192.0.2.60;proto=http;by=203.0.113.43"), [ip("192.0.2.60")]);
        assert_eq!(one("for=192.0.2.43, for=198.51.100.17"), [ip("192.0.2.43"), ip("198.51.100.17")]);
        assert_eq!(
            one(r#"for=192.0.2.43,for="[2001:db8:cafe::17]",for=unknown"#),
            [ip("192.0.2.43"), ip("2001:db8:cafe::17"), Hop::Hidden]
        );
        // §6.3 obfuscated ports, and an IPv4 address with a port (quoted: ':' is not a tchar).
        assert_eq!(one(r#"for="192.0.2.43:_p1""#), [ip("192.0.2.43")]);
        assert_eq!(one(r#"for="192.0.2.43:4711""#), [ip("192.0.2.43")]);
        assert_eq!(one(r#"for="_hidden:80""#), [Hop::Hidden]);
        assert_eq!(one("for=UNKNOWN"), [Hop::Hidden]);
    }

    #[test]
    fn lines_join_into_one_list_and_empty_elements_are_ignored() {
        assert_eq!(
            hops([Some("for=192.0.2.1"), Some(" , for=192.0.2.2 ,")]),
            [ip("192.0.2.1"), ip("192.0.2.2")]
        );
        assert_eq!(hops([Some(""), Some("  ")]), []);
        assert_eq!(hops([Some("for=192.0.2.1"), None]), [ip("192.0.2.1"), Hop::Malformed]);
    }

    #[test]
    fn parameters_other_than_for_are_skipped_whatever_their_order() {
        assert_eq!(one(r#"proto=https;host="id.example;x";by=_p;for=192.0.2.9"#), [ip("192.0.2.9")]);
        assert_eq!(one("for=192.0.2.9 ; proto=https;;"), [ip("192.0.2.9")]);
        assert_eq!(one(r#"for="192.0.2.9";ext="a \"quoted\" \\ value""#), [ip("192.0.2.9")]);
    }

    #[test]
    fn anything_else_is_malformed() {
        for bad in [
            "proto=https",                 // no for=
            "for=192.0.2.1;for=192.0.2.2", // §4: at most once
            "for=192.0.2.1;FOR=192.0.2.2", // names are case-insensitive
            "for=",                        // empty value
            "for=\"192.0.2.1",             // unclosed quote
            "for=\"192.0.2.1\"x",          // text after the quote
            "for=192.0.2.1 junk",          // two values
            "=192.0.2.1",                  // no name
            "for 192.0.2.1",               // no '='
            "for=192.0.2.1:80",            // ':' must be quoted
            "for=[2001:db8::1]",           // so must '[' and ']'
            "for=\"2001:db8::1\"",         // IPv6 needs brackets
            "for=\"[2001:db8::1\"",        // unclosed bracket
            "for=\"[2001:db8::1]80\"",     // no ':' before the port
            "for=\"[fe80::1%eth0]\"",      // no zone
            "for=\"[192.0.2.1]\"",         // brackets are for IPv6
            "for=\"192.0.2.1:\"",          // empty port
            "for=\"192.0.2.1:123456\"",    // port = 1*5DIGIT
            "for=\"192.0.2.1:http\"",      // not a port nor an obfport
            "for=\"192.0.2.1:80:80\"",     // two ports
            "for=192.0.2.001",             // leading zeros
            "for=192.0.2",                 // three octets
            "for=localhost",               // a name, not an address
            "for=_",                       // obfnode needs a character after '_'
            "for=\"_a b\"",                // ... from a small set
            "for=\"192.0.2.1\x01\"",       // a control character
            "for=\"192.0.2.1\\",           // an escape at the end
            "for=\"1.2.3.4,5.6.7.8\"",     // split at the comma: two bad pieces
        ] {
            assert!(one(bad).iter().all(|h| *h == Hop::Malformed), "{bad:?} gave {:?}", one(bad));
        }
    }

    #[test]
    fn junk_on_the_left_leaves_the_elements_on_its_right_intact() {
        assert_eq!(one(r#"for="junk, for=192.0.2.7"#), [Hop::Malformed, ip("192.0.2.7")]);
        assert_eq!(one("for=[::1] ;;; ===, for=192.0.2.7"), [Hop::Malformed, ip("192.0.2.7")]);
    }
}
