//! The agent's allowlist: which `host:port` targets a visitor's stream may reach.
//!
//! The gateway asks for `CONNECT localhost:<port>` whatever host the tunnel was registered
//! with, so loopback spellings (`localhost`, `127.0.0.1`, `::1`, `[::1]`) count as one host
//! on both sides. A match yields the *stored* entry, which is what the
//! agent dials: `localhost` in a request must not resolve to `::1` when the user said
//! `127.0.0.1`.

use std::{
    net::IpAddr,
    sync::{Arc, RwLock},
};

/// One local service the user exposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    pub host: String,
    pub port: u16,
    pub enabled: bool,
}

/// Where an admitted stream goes: the stored host (as the user wrote it, minus any scheme
/// or brackets) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialTarget {
    pub host: String,
    pub port: u16,
}

impl DialTarget {
    /// `host:port` with IPv6 literals bracketed, for URLs and `Host` headers.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The set of enabled targets, replaced wholesale by the heartbeat.
#[derive(Debug, Default)]
pub struct Allowlist {
    entries: RwLock<Arc<Vec<AllowEntry>>>,
}

/// The spelling every loopback alias is compared as.
const LOOPBACK: &str = "127.0.0.1";

/// Removes what is not part of a host name: an `http://`/`https://` prefix and IPv6 brackets.
fn bare_host(host: &str) -> &str {
    let host = host.trim();
    let host = strip_prefix_ignore_case(host, "http://")
        .or_else(|| strip_prefix_ignore_case(host, "https://"))
        .unwrap_or(host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The form two hosts are compared in: lowercase, loopback aliases folded into one,
/// IP literals in canonical text.
pub fn normalize_host(host: &str) -> String {
    let host = bare_host(host).to_ascii_lowercase();
    if host == "localhost" {
        return LOOPBACK.to_string();
    }
    match host.parse::<IpAddr>() {
        Ok(ip)
            if ip == IpAddr::from([127, 0, 0, 1])
                || ip == IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]) =>
        {
            LOOPBACK.to_string()
        }
        Ok(ip) => ip.to_string(),
        Err(_) => host,
    }
}

impl Allowlist {
    /// Replaces every entry at once.
    pub fn replace(&self, entries: Vec<AllowEntry>) {
        let mut guard = self.entries.write().unwrap_or_else(|e| e.into_inner());
        *guard = Arc::new(entries);
    }

    /// The current entries.
    pub fn entries(&self) -> Arc<Vec<AllowEntry>> {
        self.entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Admits `host:port` if an enabled entry matches it, and returns where to dial.
    ///
    /// An entry spelled exactly like the request wins over one that only matches after
    /// normalization, so two entries for the same port dial what the request named when
    /// it can.
    pub fn resolve(&self, host: &str, port: u16) -> Option<DialTarget> {
        let wanted = normalize_host(host);
        let requested = bare_host(host);
        let entries = self.entries();
        let mut matches = entries
            .iter()
            .filter(|e| e.enabled && e.port == port && normalize_host(&e.host) == wanted);
        let first = matches.next()?;
        let chosen = std::iter::once(first)
            .chain(matches)
            .find(|e| bare_host(&e.host).eq_ignore_ascii_case(requested))
            .unwrap_or(first);
        Some(DialTarget {
            host: bare_host(&chosen.host).to_string(),
            port: chosen.port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(host: &str, port: u16, enabled: bool) -> AllowEntry {
        AllowEntry {
            host: host.into(),
            port,
            enabled,
        }
    }

    fn list(entries: Vec<AllowEntry>) -> Allowlist {
        let list = Allowlist::default();
        list.replace(entries);
        list
    }

    #[test]
    fn loopback_aliases_normalize_to_one_host() {
        for alias in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "::1",
            "[::1]",
            "0:0:0:0:0:0:0:1",
            "http://localhost",
            "https://[::1]",
        ] {
            assert_eq!(normalize_host(alias), "127.0.0.1", "{alias}");
        }
        assert_eq!(normalize_host("127.0.0.2"), "127.0.0.2");
        assert_eq!(normalize_host("Example.COM"), "example.com");
        assert_eq!(normalize_host("[fe80::0001]"), "fe80::1");
    }

    #[test]
    fn every_loopback_spelling_matches_on_both_sides() {
        let spellings = ["localhost", "127.0.0.1", "::1", "[::1]"];
        for stored in spellings {
            let allow = list(vec![entry(stored, 3000, true)]);
            for requested in spellings {
                let target = allow
                    .resolve(requested, 3000)
                    .unwrap_or_else(|| panic!("{requested} should match stored {stored}"));
                assert_eq!(target.host, bare_host(stored), "dial the stored host");
                assert_eq!(target.port, 3000);
            }
        }
    }

    #[test]
    fn dials_the_stored_host_not_the_requested_one() {
        let allow = list(vec![entry("127.0.0.1", 8080, true)]);
        let target = allow.resolve("localhost", 8080).unwrap();
        assert_eq!(target.host, "127.0.0.1");
        assert_eq!(target.authority(), "127.0.0.1:8080");

        let allow = list(vec![entry("[::1]", 8080, true)]);
        let target = allow.resolve("localhost", 8080).unwrap();
        assert_eq!(target.host, "::1");
        assert_eq!(target.authority(), "[::1]:8080");
    }

    #[test]
    fn prefers_the_exact_spelling_when_two_entries_match() {
        let allow = list(vec![
            entry("127.0.0.1", 5000, true),
            entry("localhost", 5000, true),
        ]);
        assert_eq!(allow.resolve("localhost", 5000).unwrap().host, "localhost");
        assert_eq!(allow.resolve("::1", 5000).unwrap().host, "127.0.0.1");
    }

    #[test]
    fn disabled_entries_admit_nothing() {
        let allow = list(vec![entry("localhost", 3000, false)]);
        assert_eq!(allow.resolve("localhost", 3000), None);
        allow.replace(vec![
            entry("localhost", 3000, false),
            entry("127.0.0.1", 3000, true),
        ]);
        assert_eq!(allow.resolve("localhost", 3000).unwrap().host, "127.0.0.1");
    }

    #[test]
    fn ports_must_match_exactly() {
        let allow = list(vec![entry("localhost", 3000, true)]);
        assert_eq!(allow.resolve("localhost", 3001), None);
        assert_eq!(allow.resolve("localhost", 80), None);
        assert_eq!(allow.resolve("localhost", 0), None);
    }

    #[test]
    fn lan_addresses_are_not_loopback() {
        let allow = list(vec![entry("localhost", 3000, true)]);
        for lan in [
            "192.168.1.10",
            "10.0.0.5",
            "172.16.0.1",
            "127.0.0.2",
            "0.0.0.0",
            "fe80::1",
        ] {
            assert_eq!(allow.resolve(lan, 3000), None, "{lan}");
        }
        let allow = list(vec![entry("192.168.1.10", 8080, true)]);
        assert_eq!(
            allow.resolve("192.168.1.10", 8080).unwrap().host,
            "192.168.1.10"
        );
        assert_eq!(allow.resolve("localhost", 8080), None);
        assert_eq!(allow.resolve("192.168.1.11", 8080), None);
    }

    #[test]
    fn other_hosts_match_by_name_only() {
        let allow = list(vec![entry("printer.lan", 631, true)]);
        assert!(allow.resolve("PRINTER.lan", 631).is_some());
        assert!(allow.resolve("printer.lan.evil.com", 631).is_none());
        assert!(allow.resolve("", 631).is_none());
    }

    #[test]
    fn an_empty_list_admits_nothing() {
        assert_eq!(Allowlist::default().resolve("localhost", 3000), None);
    }
}
