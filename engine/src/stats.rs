//! Traffic counters and the view of connected peers that `Agent.stats()` returns.
//!
//! Counters are plain atomics bumped by the splicing code; peers are tracked by weak
//! connection handles so that statistics never keep a connection alive.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use iroh::{
    EndpointId, TransportAddr,
    endpoint::{Connection, WeakConnectionHandle},
};

use crate::{keys::endpoint_id_hex, splice::ByteCounter};

/// Totals since the agent started.
#[derive(Debug, Default)]
pub struct Counters {
    pub bytes_to_origin: AtomicU64,
    pub bytes_from_origin: AtomicU64,
    pub streams_total: AtomicU64,
    pub streams_active: AtomicU64,
    pub streams_denied: AtomicU64,
    pub origin_unreachable: AtomicU64,
}

impl Counters {
    /// Counts a stream as started; it stays active until the guard drops.
    pub fn stream_started(self: &Arc<Self>) -> ActiveStream {
        self.streams_total.fetch_add(1, Ordering::Relaxed);
        self.streams_active.fetch_add(1, Ordering::Relaxed);
        ActiveStream(self.clone())
    }

    pub fn add_to_origin(&self, n: usize) {
        self.bytes_to_origin.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn add_from_origin(&self, n: usize) {
        self.bytes_from_origin
            .fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn denied(&self) {
        self.streams_denied.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unreachable(&self) {
        self.origin_unreachable.fetch_add(1, Ordering::Relaxed);
    }
}

impl ByteCounter for Counters {
    fn received_on_quic(&self, n: usize) {
        self.add_to_origin(n);
    }

    fn sent_on_quic(&self, n: usize) {
        self.add_from_origin(n);
    }
}

/// Keeps `streams_active` up while a stream is being served.
#[derive(Debug)]
pub struct ActiveStream(Arc<Counters>);

impl Drop for ActiveStream {
    fn drop(&mut self) {
        self.0.streams_active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The connections currently open to each remote endpoint.
#[derive(Debug, Default)]
pub struct PeerRegistry {
    peers: Mutex<HashMap<EndpointId, Vec<WeakConnectionHandle>>>,
}

/// How the traffic to one peer currently travels.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerView {
    pub endpoint_id: String,
    /// `direct`, `relay`, or `none` while no path is selected.
    pub path: &'static str,
    /// The selected path's remote address (an `ip:port` or a relay URL).
    pub remote_addr: Option<String>,
    pub rtt_ms: Option<f64>,
    pub connections: u32,
}

impl PeerRegistry {
    /// Remembers an accepted connection.
    pub fn add(&self, conn: &Connection) {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers
            .entry(conn.remote_id())
            .or_default()
            .push(conn.weak_handle());
    }

    /// Describes every peer with at least one open connection, dropping closed ones.
    pub fn snapshot(&self) -> Vec<PeerView> {
        let mut peers = self.peers.lock().unwrap_or_else(|e| e.into_inner());
        let mut views = Vec::new();
        peers.retain(|id, handles| {
            let live: Vec<Connection> = handles
                .iter()
                .filter_map(WeakConnectionHandle::upgrade)
                .filter(|c| c.close_reason().is_none())
                .collect();
            handles.retain(|h| h.upgrade().is_some_and(|c| c.close_reason().is_none()));
            if live.is_empty() {
                return false;
            }
            views.push(describe(id, &live));
            true
        });
        views.sort_by(|a, b| a.endpoint_id.cmp(&b.endpoint_id));
        views
    }
}

fn describe(id: &EndpointId, conns: &[Connection]) -> PeerView {
    let mut view = PeerView {
        endpoint_id: endpoint_id_hex(id),
        path: "none",
        remote_addr: None,
        rtt_ms: None,
        connections: conns.len() as u32,
    };
    // The newest connection is the one the gateway's pool is using.
    if let Some(conn) = conns.last() {
        let paths = conn.paths();
        if let Some(path) = paths.iter().find(|p| p.is_selected()) {
            view.path = if path.is_relay() { "relay" } else { "direct" };
            view.remote_addr = Some(match path.remote_addr() {
                TransportAddr::Ip(addr) => addr.to_string(),
                TransportAddr::Relay(url) => url.to_string(),
                other => format!("{other:?}"),
            });
            view.rtt_ms = Some(path.rtt().as_secs_f64() * 1000.0);
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_streams_fall_when_guards_drop() {
        let counters = Arc::new(Counters::default());
        let a = counters.stream_started();
        let b = counters.stream_started();
        assert_eq!(counters.streams_active.load(Ordering::Relaxed), 2);
        drop(a);
        assert_eq!(counters.streams_active.load(Ordering::Relaxed), 1);
        drop(b);
        assert_eq!(counters.streams_total.load(Ordering::Relaxed), 2);
        assert_eq!(counters.streams_active.load(Ordering::Relaxed), 0);
    }
}
