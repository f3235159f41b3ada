//! A bounded record of the requests the agent served, for the tunnel's request log.
//!
//! The proxy pushes one entry per request as soon as its outcome is known (the origin's
//! status, 403, 502); JavaScript drains the entries once a second. When nobody drains, the
//! oldest entries are dropped and counted, so memory stays bounded however busy the tunnel is.

use std::{
    collections::VecDeque,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

/// Entries kept between two drains.
const CAPACITY: usize = 1024;

/// One served request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestEntry {
    /// `GET`, `POST`, … or `CONNECT` for a raw tunnel.
    pub method: String,
    /// The path and query of an absolute-form request; the authority for `CONNECT`.
    pub path: String,
    /// The status the visitor got: the origin's, or 403/502 from the agent.
    pub status: u16,
    /// From the request head arriving to the response head leaving.
    pub duration_ms: f64,
    /// The endpoint id (64 lowercase hex) of the peer that sent it: normally the edge.
    pub peer: String,
}

/// The entries since the last drain, and how many were dropped.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<RequestEntry>>,
    dropped: AtomicU64,
}

impl RequestLog {
    /// Records a request of `peer` that started at `started`.
    pub fn record(&self, peer: &str, method: &str, path: &str, status: u16, started: Instant) {
        let entry = RequestEntry {
            method: method.to_string(),
            path: path.to_string(),
            status,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            peer: peer.to_string(),
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.pop_front();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        entries.push_back(entry);
    }

    /// Takes every entry recorded since the last call, and the number dropped meanwhile.
    pub fn drain(&self) -> (Vec<RequestEntry>, u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let taken = entries.drain(..).collect();
        (taken, self.dropped.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drain_takes_everything_once_and_overflow_is_counted() {
        let log = RequestLog::default();
        let now = Instant::now();
        for i in 0..CAPACITY + 3 {
            log.record("ab", "GET", &format!("/{i}"), 200, now);
        }
        let (entries, dropped) = log.drain();
        assert_eq!(entries.len(), CAPACITY);
        assert_eq!(dropped, 3);
        assert_eq!(entries[0].path, "/3", "the oldest were dropped");
        assert_eq!(entries[0].peer, "ab");
        assert_eq!(log.drain(), (Vec::new(), 0));
    }
}
