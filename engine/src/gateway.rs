//! A stand-in for Datum's edge, exported to JavaScript as `Gateway`: an HTTP listener that
//! routes by `Host` to agents over iroh with iroh-proxy-utils' downstream proxy (one QUIC
//! stream per request, absolute-form or CONNECT), for the local stack and the tests.
//!
//! It dials agents only at the addresses pushed with `setRoutes`: no discovery, and no
//! relays unless asked for.

use std::{net::SocketAddr, sync::Mutex, time::Duration};

use iroh::{Endpoint, SecretKey, address_lookup::MemoryLookup};
use iroh_proxy_utils::downstream::{DownstreamProxy, HttpProxyOpts, PoolOpts, ProxyMode};
use napi_derive::napi;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    endpoint::{EndpointSettings, RelayChoice, bind, parse_bind_addr},
    keys::endpoint_id_hex,
    routes::{GatewayErrors, Route, RouteTable},
};

/// How to start a gateway.
#[napi(object)]
pub struct GatewayOptions {
    /// `ip:port` for the HTTP listener; default `127.0.0.1:0`.
    pub listen: Option<String>,
    /// `disabled` (default), `datum` or `custom`.
    pub relay_mode: Option<String>,
    pub relay_urls: Option<Vec<String>>,
    /// `ip:port` for the iroh UDP socket; default `127.0.0.1:0` when relays are disabled.
    pub bind_addr: Option<String>,
    /// How long dialing an agent may take before the visitor gets a 503 (default 10 000).
    pub connect_timeout_ms: Option<u32>,
    /// How long an idle connection to an agent stays open (default 5 000).
    pub idle_timeout_ms: Option<u32>,
}

/// One hostname served through an agent.
#[napi(object)]
pub struct GatewayRoute {
    pub hostname: String,
    pub endpoint_id: String,
    pub relay_url: Option<String>,
    pub direct_addresses: Vec<String>,
    pub target_host: String,
    pub target_port: u32,
    pub online: bool,
}

/// A running gateway.
#[napi]
pub struct Gateway {
    endpoint: Endpoint,
    routes: RouteTable,
    listen_addr: SocketAddr,
    server: Mutex<Option<JoinHandle<()>>>,
}

/// Binds the HTTP listener and the iroh endpoint; serves 404 until routes are set.
#[napi]
pub async fn start_gateway(options: GatewayOptions) -> napi::Result<Gateway> {
    let relays = RelayChoice::parse(
        Some(options.relay_mode.as_deref().unwrap_or("disabled")),
        options.relay_urls.as_deref(),
    )
    .map_err(napi::Error::from_reason)?;
    let default_bind = (relays == RelayChoice::Disabled).then_some("127.0.0.1:0");
    let bind_addr = parse_bind_addr(options.bind_addr.as_deref().or(default_bind))
        .map_err(napi::Error::from_reason)?;
    let listen = options.listen.as_deref().unwrap_or("127.0.0.1:0");
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| napi::Error::from_reason(format!("cannot listen on {listen}: {e}")))?;
    let listen_addr = listener
        .local_addr()
        .map_err(|e| napi::Error::from_reason(e.to_string()))?;

    let lookup = MemoryLookup::new();
    let endpoint = bind(EndpointSettings {
        secret_key: SecretKey::generate(),
        relays,
        bind_addr,
        alpns: Vec::new(),
        lookup: Some(lookup.clone()),
    })
    .await
    .map_err(napi::Error::from_reason)?;

    let routes = RouteTable::new(lookup);
    let pool = PoolOpts {
        connect_timeout: Duration::from_millis(options.connect_timeout_ms.unwrap_or(10_000).into()),
        idle_timeout: Duration::from_millis(options.idle_timeout_ms.unwrap_or(5_000).into()),
    };
    let proxy = DownstreamProxy::new(endpoint.clone(), pool);
    let mode = ProxyMode::Http(HttpProxyOpts::new(routes.clone()).error_responder(GatewayErrors));
    let server = tokio::spawn(async move {
        // Only returns when accepting fails, which a loopback listener does not do.
        proxy.forward_tcp_listener(listener, mode).await.ok();
    });
    Ok(Gateway {
        endpoint,
        routes,
        listen_addr,
        server: Mutex::new(Some(server)),
    })
}

#[napi]
impl Gateway {
    /// The TCP port of the HTTP listener.
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.listen_addr.port().into()
    }

    /// `http://<listen address>`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        format!("http://{}", self.listen_addr)
    }

    /// The gateway's own endpoint id (agents see it as their peer).
    #[napi(getter)]
    pub fn endpoint_id(&self) -> String {
        endpoint_id_hex(&self.endpoint.id())
    }

    /// Replaces the route table; an invalid route rejects the whole update.
    #[napi]
    pub fn set_routes(&self, routes: Vec<GatewayRoute>) -> napi::Result<()> {
        let routes = routes
            .iter()
            .map(|r| {
                Route::parse(
                    &r.hostname,
                    &r.endpoint_id,
                    r.relay_url.as_deref(),
                    &r.direct_addresses,
                    &r.target_host,
                    r.target_port,
                    r.online,
                )
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(napi::Error::from_reason)?;
        self.routes.replace(routes);
        Ok(())
    }

    /// Stops listening and closes the endpoint.
    #[napi]
    pub async fn close(&self) {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(server) = server {
            server.abort();
        }
        self.endpoint.close().await;
    }
}
