//! The agent: the user's side of a tunnel, exported to JavaScript as `Agent`.
//!
//! It owns an iroh endpoint (stable id from the user's secret key) and serves
//! `iroh-http-proxy/1` (plus the legacy `iroh-http-proxy`) with [`OriginProxy`] against an
//! allowlist that the heartbeat replaces as tunnels are enabled and disabled.

use std::{
    sync::{Arc, Mutex, atomic::Ordering},
    time::Duration,
};

use iroh::{Endpoint, Watcher, protocol::Router};
use n0_future::StreamExt;
use napi::{
    Status,
    bindgen_prelude::Buffer,
    threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode},
};
use napi_derive::napi;
use tokio::{runtime::Handle, task::JoinHandle};

use crate::{
    authorizer::{AllowEntry, Allowlist},
    capture::{Capture, RequestCapture},
    endpoint::{EndpointSettings, RelayChoice, address_parts, bind, parse_bind_addr},
    keys::{endpoint_id_hex, secret_key_from_bytes},
    peer_filter::PeerFilter,
    requests::RequestLog,
    stats::{Counters, PeerRegistry},
    upstream::OriginProxy,
    wire::{ALPN, LEGACY_ALPN},
};

/// How to start an agent.
#[napi(object)]
pub struct AgentOptions {
    /// The 32-byte secret key; its public half is the endpoint id.
    pub secret_key: Buffer,
    /// `datum` (default), `custom` or `disabled`.
    pub relay_mode: Option<String>,
    /// Relay URLs for `custom`.
    pub relay_urls: Option<Vec<String>>,
    /// `ip:port` to bind the UDP socket to; default: all interfaces, a random port.
    pub bind_addr: Option<String>,
    /// Without `bind_addr`: all interfaces on this UDP port (a restart keeps its port).
    pub port: Option<u32>,
    /// Endpoint ids (64 hex) of the only peers served; unset or empty: every peer.
    pub allowed_peers: Option<Vec<String>>,
}

/// Where the agent can be reached, as the Connector stores it.
#[napi(object)]
#[derive(Clone, PartialEq)]
pub struct AddressInfo {
    pub endpoint_id: String,
    pub home_relay: Option<String>,
    pub direct_addresses: Vec<String>,
}

/// One local service the agent may reach.
#[napi(object)]
pub struct AllowlistEntry {
    pub host: String,
    pub port: u32,
    pub enabled: bool,
}

/// How the traffic to one remote peer (normally the gateway) travels.
#[napi(object)]
pub struct PeerStats {
    pub endpoint_id: String,
    /// `direct`, `relay`, or `none` while no path is selected.
    pub path: String,
    pub remote_addr: Option<String>,
    pub rtt_ms: Option<f64>,
    pub connections: u32,
}

/// Totals since the agent started, and the connected peers.
#[napi(object)]
pub struct AgentStats {
    pub bytes_to_origin: f64,
    pub bytes_from_origin: f64,
    pub streams_total: f64,
    pub streams_active: f64,
    pub streams_denied: f64,
    pub origin_unreachable: f64,
    pub peers: Vec<PeerStats>,
    /// Peers that had connections refused or requests denied, with the counts.
    pub denials: Vec<PeerDenialStats>,
}

/// What the agent turned away from one peer since it started.
#[napi(object)]
pub struct PeerDenialStats {
    pub endpoint_id: String,
    /// Connections refused because the peer is not in `allowedPeers`.
    pub connections_refused: f64,
    /// Requests answered 403 because their target is not in the allowlist.
    pub requests_denied: f64,
}

/// One request the agent served (see `Agent.drainRequests`).
#[napi(object)]
pub struct RequestInfo {
    pub method: String,
    /// Path and query; `host:port` for `CONNECT`.
    pub path: String,
    pub status: u32,
    pub duration_ms: f64,
    /// The endpoint id of the peer that sent it (64 lowercase hex).
    pub peer: String,
}

/// The requests served since the last drain.
#[napi(object)]
pub struct DrainedRequests {
    pub requests: Vec<RequestInfo>,
    /// Requests not kept because nobody drained for a long time.
    pub dropped: f64,
}

/// Told that the address changed; it reads the new one with `address()`, so a burst of
/// changes costs one read of the latest value.
type AddressCallback = ThreadsafeFunction<(), (), (), Status, false, true>;

/// A running agent.
#[napi]
pub struct Agent {
    endpoint: Endpoint,
    router: Router,
    allowlist: Arc<Allowlist>,
    counters: Arc<Counters>,
    peers: Arc<PeerRegistry>,
    requests: Arc<RequestLog>,
    capture: Arc<Capture>,
    peer_filter: Arc<PeerFilter>,
    runtime: Handle,
    watchers: Mutex<Vec<JoinHandle<()>>>,
}

/// Binds the endpoint and starts serving; the allowlist starts empty (everything is 403).
#[napi]
pub async fn start_agent(options: AgentOptions) -> napi::Result<Agent> {
    let secret_key =
        secret_key_from_bytes(&options.secret_key).map_err(napi::Error::from_reason)?;
    let relays = RelayChoice::parse(options.relay_mode.as_deref(), options.relay_urls.as_deref())
        .map_err(napi::Error::from_reason)?;
    let bind_addr =
        parse_bind_addr(options.bind_addr.as_deref()).map_err(napi::Error::from_reason)?;
    let port = crate::stable_port::parse_port(options.port).map_err(napi::Error::from_reason)?;
    let peer_filter = Arc::new(
        PeerFilter::new(options.allowed_peers.as_deref()).map_err(napi::Error::from_reason)?,
    );
    let endpoint = bind(EndpointSettings {
        secret_key,
        relays,
        bind_addr,
        port,
        alpns: vec![ALPN.to_vec(), LEGACY_ALPN.to_vec()],
        lookup: None,
    })
    .await
    .map_err(napi::Error::from_reason)?;

    wait_for_direct_addresses(&endpoint).await;

    let allowlist = Arc::new(Allowlist::default());
    let counters = Arc::new(Counters::default());
    let peers = Arc::new(PeerRegistry::default());
    let requests = Arc::new(RequestLog::default());
    let capture = Arc::new(Capture::default());
    let proxy = Arc::new(
        OriginProxy::new(
            allowlist.clone(),
            counters.clone(),
            peers.clone(),
            requests.clone(),
            peer_filter.clone(),
        )
        .with_capture(capture.clone()),
    );
    let router = Router::builder(endpoint.clone())
        .accept(ALPN, proxy.clone())
        .accept(LEGACY_ALPN, proxy)
        .spawn();
    Ok(Agent {
        endpoint,
        router,
        allowlist,
        counters,
        peers,
        requests,
        capture,
        peer_filter,
        runtime: Handle::current(),
        watchers: Mutex::default(),
    })
}

/// Local addresses are gathered just after binding; waiting a moment for them means the
/// first `address()` is already dialable, which is what a caller publishing it wants.
async fn wait_for_direct_addresses(endpoint: &Endpoint) {
    let mut watcher = endpoint.watch_addr();
    let gathered = async {
        while watcher.get().ip_addrs().next().is_none() {
            if watcher.updated().await.is_err() {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(2), gathered)
        .await
        .ok();
}

fn current_address(endpoint: &Endpoint) -> AddressInfo {
    address_info(endpoint, &endpoint.addr())
}

fn address_info(endpoint: &Endpoint, addr: &iroh::EndpointAddr) -> AddressInfo {
    let parts = address_parts(addr);
    AddressInfo {
        endpoint_id: endpoint_id_hex(&endpoint.id()),
        home_relay: parts.home_relay,
        direct_addresses: parts.direct_addresses,
    }
}

#[napi]
impl Agent {
    /// The endpoint id: 64 lowercase hex characters.
    #[napi(getter)]
    pub fn endpoint_id(&self) -> String {
        endpoint_id_hex(&self.endpoint.id())
    }

    /// The current home relay and direct addresses.
    #[napi]
    pub fn address(&self) -> AddressInfo {
        current_address(&self.endpoint)
    }

    /// Calls `callback` (no arguments) now and whenever the address changes, until
    /// `close()`. The callback does not keep the JavaScript event loop alive.
    #[napi]
    pub fn on_address_change(&self, callback: AddressCallback) {
        let endpoint = self.endpoint.clone();
        let task = self.runtime.spawn(async move {
            let mut updates = endpoint.watch_addr().stream();
            let mut last: Option<AddressInfo> = None;
            loop {
                let addr = tokio::select! {
                    next = updates.next() => match next {
                        Some(addr) => addr,
                        None => break,
                    },
                    _ = endpoint.closed() => break,
                };
                let info = address_info(&endpoint, &addr);
                if last.as_ref() != Some(&info) {
                    last = Some(info);
                    callback.call((), ThreadsafeFunctionCallMode::NonBlocking);
                }
            }
        });
        self.watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task);
    }

    /// Replaces the allowlist. Ports must be 1–65535.
    #[napi]
    pub fn set_allowlist(&self, entries: Vec<AllowlistEntry>) -> napi::Result<()> {
        let entries = entries
            .into_iter()
            .map(|e| {
                let port = u16::try_from(e.port)
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| {
                        napi::Error::from_reason(format!("port {} is out of range", e.port))
                    })?;
                Ok(AllowEntry {
                    host: e.host,
                    port,
                    enabled: e.enabled,
                })
            })
            .collect::<napi::Result<Vec<_>>>()?;
        self.allowlist.replace(entries);
        Ok(())
    }

    /// Traffic totals and the connected peers.
    #[napi]
    pub fn stats(&self) -> AgentStats {
        let c = &self.counters;
        let load = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed) as f64;
        AgentStats {
            bytes_to_origin: load(&c.bytes_to_origin),
            bytes_from_origin: load(&c.bytes_from_origin),
            streams_total: load(&c.streams_total),
            streams_active: load(&c.streams_active),
            streams_denied: load(&c.streams_denied),
            origin_unreachable: load(&c.origin_unreachable),
            peers: self
                .peers
                .snapshot()
                .into_iter()
                .map(|p| PeerStats {
                    endpoint_id: p.endpoint_id,
                    path: p.path.to_string(),
                    remote_addr: p.remote_addr,
                    rtt_ms: p.rtt_ms,
                    connections: p.connections,
                })
                .collect(),
            denials: self
                .peer_filter
                .denials()
                .into_iter()
                .map(|(endpoint_id, d)| PeerDenialStats {
                    endpoint_id,
                    connections_refused: d.connections_refused as f64,
                    requests_denied: d.requests_denied as f64,
                })
                .collect(),
        }
    }

    /// The requests served since the last call (oldest first).
    #[napi]
    pub fn drain_requests(&self) -> DrainedRequests {
        let (entries, dropped) = self.requests.drain();
        DrainedRequests {
            requests: entries
                .into_iter()
                .map(|e| RequestInfo {
                    method: e.method,
                    path: e.path,
                    status: u32::from(e.status),
                    duration_ms: e.duration_ms,
                    peer: e.peer,
                })
                .collect(),
            dropped: dropped as f64,
        }
    }

    /// The request inspector's capture (off until its `enable`).
    #[napi]
    pub fn capture(&self) -> RequestCapture {
        RequestCapture::new(self.capture.clone())
    }

    /// Waits until a relay connection is up; false if that took longer than `timeout_ms`.
    #[napi]
    pub async fn wait_online(&self, timeout_ms: u32) -> bool {
        let wait = Duration::from_millis(timeout_ms.into());
        tokio::time::timeout(wait, self.endpoint.online())
            .await
            .is_ok()
    }

    /// Stops serving and closes the endpoint; open streams are cut.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        for task in self
            .watchers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            task.abort();
        }
        self.router
            .shutdown()
            .await
            .map_err(|e| napi::Error::from_reason(format!("agent shutdown failed: {e}")))
    }
}
