//! Which iroh peers the agent serves, and what it refused from whom.
//!
//! An agent's endpoint id is public (iroh DNS publishes it), so any peer that knows it can
//! connect. By default every peer is served, because Datum publishes no list of its edge's
//! identities; a user who knows the peers that should reach them (their own edge, the local
//! stack's gateway) can name them, and every other peer is then refused when it connects,
//! before any stream of it is read. Refusals and denied requests are counted per peer so the
//! event stream can say who was turned away.

use std::{
    collections::{BTreeMap, HashSet},
    sync::Mutex,
};

use iroh::EndpointId;

use crate::keys::{endpoint_id_hex, parse_endpoint_id};

/// The peers allowed to connect: `None` serves every peer.
#[derive(Debug, Default)]
pub struct PeerFilter {
    allowed: Option<HashSet<EndpointId>>,
    tally: Mutex<BTreeMap<String, PeerDenials>>,
}

/// What was turned away from one peer since the agent started.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PeerDenials {
    /// Connections refused because the peer is not allowed.
    pub connections_refused: u64,
    /// Requests answered 403 because their target is not in the allowlist.
    pub requests_denied: u64,
}

impl PeerFilter {
    /// A filter for `allowed` endpoint ids (64 hex each); an empty list or `None` serves all.
    pub fn new(allowed: Option<&[String]>) -> Result<Self, String> {
        let allowed = match allowed {
            Some(ids) if !ids.is_empty() => Some(
                ids.iter()
                    .map(|id| parse_endpoint_id(id))
                    .collect::<Result<HashSet<_>, _>>()?,
            ),
            _ => None,
        };
        Ok(Self {
            allowed,
            tally: Mutex::default(),
        })
    }

    /// Whether connections from `peer` are served; a refusal is counted against it.
    pub fn admit(&self, peer: &EndpointId) -> bool {
        let admitted = self.allowed.as_ref().is_none_or(|set| set.contains(peer));
        if !admitted {
            self.count(peer, |d| d.connections_refused += 1);
        }
        admitted
    }

    /// Counts one request of `peer` denied by the target allowlist.
    pub fn denied_request(&self, peer: &EndpointId) {
        self.count(peer, |d| d.requests_denied += 1);
    }

    fn count(&self, peer: &EndpointId, bump: impl FnOnce(&mut PeerDenials)) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        bump(tally.entry(endpoint_id_hex(peer)).or_default());
    }

    /// Every peer with something refused or denied, by endpoint id (64 lowercase hex).
    pub fn denials(&self) -> Vec<(String, PeerDenials)> {
        let tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use iroh::SecretKey;

    use super::*;

    fn id(seed: u8) -> EndpointId {
        SecretKey::from_bytes(&[seed; 32]).public()
    }

    #[test]
    fn without_a_list_every_peer_is_served() {
        for list in [None, Some(&[][..])] {
            let filter = PeerFilter::new(list).unwrap();
            assert!(filter.admit(&id(1)));
            assert!(filter.admit(&id(2)));
            assert!(filter.denials().is_empty());
        }
    }

    #[test]
    fn with_a_list_other_peers_are_refused_and_counted() {
        let allowed = [endpoint_id_hex(&id(1)).to_uppercase()];
        let filter = PeerFilter::new(Some(&allowed)).unwrap();
        assert!(filter.admit(&id(1)), "ids compare case-insensitively");
        assert!(!filter.admit(&id(2)));
        assert!(!filter.admit(&id(2)));
        filter.denied_request(&id(1));
        let mut want = vec![
            (
                endpoint_id_hex(&id(1)),
                PeerDenials {
                    connections_refused: 0,
                    requests_denied: 1,
                },
            ),
            (
                endpoint_id_hex(&id(2)),
                PeerDenials {
                    connections_refused: 2,
                    requests_denied: 0,
                },
            ),
        ];
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(filter.denials(), want);
    }

    #[test]
    fn a_malformed_id_is_an_error() {
        assert!(PeerFilter::new(Some(&["abc".to_string()])).is_err());
    }
}
