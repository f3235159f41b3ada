//! A stand-in for Datum's edge, exported to JavaScript as `Gateway`: an HTTP listener that
//! routes by `Host` to agents over iroh (one QUIC stream per request, absolute-form or
//! CONNECT; see [`crate::downstream`]), for the local stack and the tests.
//!
//! It dials agents only at the addresses pushed with `setRoutes`: no discovery, and no
//! relays unless asked for.

use std::{net::SocketAddr, sync::Mutex, time::Duration};

use iroh::{Endpoint, SecretKey, address_lookup::MemoryLookup};
use iroh_util::connection_pool::{ConnectionPool, Options as PoolOptions};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use tokio::{
    net::{TcpListener, TcpSocket},
    task::JoinHandle,
};

use crate::{
    downstream::Forwarder,
    endpoint::{EndpointSettings, RelayChoice, bind, parse_bind_addr},
    keys::{endpoint_id_hex, secret_key_from_bytes},
    routes::{Route, RouteTable},
    wire::ALPN,
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
    /// The 32-byte secret key of the gateway's identity (agents see its public half as their
    /// peer); default: a fresh one.
    pub secret_key: Option<Buffer>,
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

/// A listener whose accepted connections have Nagle's algorithm off (they inherit
/// `TCP_NODELAY`): a response head and body go out in separate writes, and with Nagle on
/// the body would wait for the visitor's delayed ACK (40 ms on Linux).
fn listen_without_delay(addr: &str) -> std::io::Result<TcpListener> {
    let addr: SocketAddr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_nodelay(true)?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
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
    let listener = listen_without_delay(listen)
        .map_err(|e| napi::Error::from_reason(format!("cannot listen on {listen}: {e}")))?;
    let listen_addr = listener
        .local_addr()
        .map_err(|e| napi::Error::from_reason(e.to_string()))?;

    let secret_key = match options.secret_key.as_deref() {
        Some(bytes) => secret_key_from_bytes(bytes).map_err(napi::Error::from_reason)?,
        None => SecretKey::generate(),
    };
    let lookup = MemoryLookup::new();
    let endpoint = bind(EndpointSettings {
        secret_key,
        relays,
        bind_addr,
        port: None,
        alpns: Vec::new(),
        lookup: Some(lookup.clone()),
    })
    .await
    .map_err(napi::Error::from_reason)?;

    let routes = RouteTable::new(lookup);
    let pool = ConnectionPool::new(
        endpoint.clone(),
        ALPN,
        PoolOptions {
            connect_timeout: Duration::from_millis(
                options.connect_timeout_ms.unwrap_or(10_000).into(),
            ),
            idle_timeout: Duration::from_millis(options.idle_timeout_ms.unwrap_or(5_000).into()),
            ..PoolOptions::default()
        },
    );
    let server = tokio::spawn(Forwarder::new(routes.clone(), pool).serve(listener));
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
