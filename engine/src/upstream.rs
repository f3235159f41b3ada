//! The agent's side of the stream protocol: one QUIC bidirectional
//! stream per proxied request, an HTTP/1.1 head on it, then either a CONNECT tunnel or one
//! absolute-form request forwarded to the local origin.
//!
//! iroh-proxy-utils' `UpstreamProxy` dials the host the *request* names; Datum's rule is to
//! dial the host the user *stored*, so this module serves the protocol itself, reusing the
//! crate's parser and hop-by-hop filter so both sides read the wire the same way.

use std::{
    fmt, io,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::{TokioExecutor, TokioIo},
};
use iroh::{
    EndpointId,
    endpoint::{Connection, RecvStream, SendStream, VarInt},
    protocol::{AcceptError, ProtocolHandler},
};
use iroh_proxy_utils::{HttpProxyRequestKind, HttpRequest};
use n0_future::StreamExt;
use tokio::net::TcpStream;

use crate::{
    authorizer::{Allowlist, DialTarget},
    capture::{Capture, Exchange as Captured, ExchangeKind, Tapped},
    keys::endpoint_id_hex,
    peer_filter::PeerFilter,
    requests::RequestLog,
    splice::splice,
    stats::{Counters, PeerRegistry},
    wire::{HeadError, chunks, read_head, response_head, strip_hop_by_hop},
};

/// How long dialing the origin may take before the visitor gets a 502.
const ORIGIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const FORBIDDEN: &[u8] = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n";
const UNREACHABLE: &[u8] = b"HTTP/1.1 502 Origin Is Unreachable\r\ncontent-length: 0\r\n\r\n";
const BAD_REQUEST: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
const CONNECTED: &[u8] = b"HTTP/1.1 200 Connection Established\r\n\r\n";

/// The QUIC close code for a peer that is not allowed (HTTP's 403, for people reading logs).
pub const PEER_REFUSED_CODE: u32 = 403;

type OriginBody = UnsyncBoxBody<Bytes, io::Error>;

/// Serves `iroh-http-proxy/1` streams against the allowlist.
#[derive(Clone)]
pub struct OriginProxy {
    allowlist: Arc<Allowlist>,
    counters: Arc<Counters>,
    peers: Arc<PeerRegistry>,
    requests: Arc<RequestLog>,
    capture: Arc<Capture>,
    peer_filter: Arc<PeerFilter>,
    client: Client<HttpConnector, OriginBody>,
}

impl fmt::Debug for OriginProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OriginProxy").finish_non_exhaustive()
    }
}

impl OriginProxy {
    /// A proxy that serves the peers `peer_filter` admits, dials what `allowlist` allows,
    /// counts into `counters`/`peers` and records each request's outcome in `requests`.
    pub fn new(
        allowlist: Arc<Allowlist>,
        counters: Arc<Counters>,
        peers: Arc<PeerRegistry>,
        requests: Arc<RequestLog>,
        peer_filter: Arc<PeerFilter>,
    ) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(ORIGIN_CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Self {
            allowlist,
            counters,
            peers,
            requests,
            capture: Arc::default(),
            peer_filter,
            client,
        }
    }

    /// Records requests into `capture` (the inspector) while it is enabled.
    pub fn with_capture(mut self, capture: Arc<Capture>) -> Self {
        self.capture = capture;
        self
    }
}

impl ProtocolHandler for OriginProxy {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        let peer = connection.remote_id();
        // Refused before any stream is accepted: nothing of a refused peer is read.
        if !self.peer_filter.admit(&peer) {
            connection.close(VarInt::from_u32(PEER_REFUSED_CODE), b"peer not allowed");
            return Ok(());
        }
        self.peers.add(&connection);
        // Ends when the gateway closes the connection or the endpoint shuts down.
        while let Ok((send, recv)) = connection.accept_bi().await {
            let proxy = self.clone();
            tokio::spawn(async move { proxy.serve_stream(peer, send, recv).await });
        }
        Ok(())
    }
}

/// Writes a complete reply (head, no body) and ends the stream.
async fn reply(send: &mut SendStream, bytes: &[u8]) {
    if send.write_all(bytes).await.is_ok() {
        send.finish().ok();
    }
}

impl OriginProxy {
    async fn serve_stream(self, peer: EndpointId, mut send: SendStream, mut recv: RecvStream) {
        let _active = self.counters.stream_started();
        let started = Instant::now();
        let (head, pending) = match read_head(&mut recv, HttpRequest::parse_with_len).await {
            Ok(parsed) => parsed,
            Err(HeadError::Gone) => return,
            Err(HeadError::Invalid) => return reply(&mut send, BAD_REQUEST).await,
        };
        let Ok(request) = head.try_into_proxy_request() else {
            return reply(&mut send, BAD_REQUEST).await;
        };
        let Ok(authority) = request.kind.authority() else {
            return reply(&mut send, BAD_REQUEST).await;
        };
        let (method, path) = match &request.kind {
            HttpProxyRequestKind::Tunnel { .. } => (
                "CONNECT".to_string(),
                format!("{}:{}", authority.host, authority.port),
            ),
            HttpProxyRequestKind::Absolute { method, target } => (
                method.to_string(),
                target
                    .path_and_query()
                    .map_or_else(|| "/".to_string(), |p| p.to_string()),
            ),
        };
        let peer_hex = endpoint_id_hex(&peer);
        let kind = match &request.kind {
            HttpProxyRequestKind::Tunnel { .. } => ExchangeKind::Connect,
            _ if is_websocket_upgrade(&request.headers) => ExchangeKind::WebSocket,
            _ => ExchangeKind::Http,
        };
        let captured = self
            .capture
            .begin(kind, &peer_hex, &method, &path, &request.headers, started);
        let outcome = Outcome {
            log: &self.requests,
            peer: &peer_hex,
            method: &method,
            path: &path,
            started,
            captured,
        };
        let Some(target) = self.allowlist.resolve(&authority.host, authority.port) else {
            self.counters.denied();
            self.peer_filter.denied_request(&peer);
            outcome.record(StatusCode::FORBIDDEN);
            return reply(&mut send, FORBIDDEN).await;
        };
        if let Some(c) = &outcome.captured {
            c.dialed(&target);
        }
        match request.kind {
            HttpProxyRequestKind::Tunnel { .. } => {
                self.tunnel(target, send, recv, pending, outcome).await;
            }
            HttpProxyRequestKind::Absolute {
                method,
                target: uri,
            } => {
                let exchange = Exchange {
                    target,
                    method,
                    uri,
                    headers: request.headers,
                };
                self.forward(exchange, send, recv, pending, outcome).await;
            }
        }
    }

    /// CONNECT: dial the stored target and splice until both sides are done.
    async fn tunnel(
        &self,
        target: DialTarget,
        mut send: SendStream,
        mut recv: RecvStream,
        pending: Bytes,
        outcome: Outcome<'_>,
    ) {
        let dial = tokio::time::timeout(
            ORIGIN_CONNECT_TIMEOUT,
            TcpStream::connect((target.host.as_str(), target.port)),
        );
        let tcp = match dial.await {
            Ok(Ok(tcp)) => tcp,
            _ => {
                self.counters.unreachable();
                outcome.record(StatusCode::BAD_GATEWAY);
                return reply(&mut send, UNREACHABLE).await;
            }
        };
        outcome.record(StatusCode::OK);
        tcp.set_nodelay(true).ok();
        if send.write_all(CONNECTED).await.is_err() {
            return;
        }
        let (tcp_read, tcp_write) = tcp.into_split();
        let (mut tcp_read, mut tcp_write) = outcome.tapped(tcp_read, tcp_write);
        splice(
            &mut send,
            &mut recv,
            pending,
            &mut tcp_read,
            &mut tcp_write,
            &*self.counters,
        )
        .await
        .ok();
    }

    /// Absolute form: one request to the origin through the pooled client; a WebSocket
    /// upgrade turns into a splice once the origin answers 101.
    async fn forward(
        &self,
        exchange: Exchange,
        mut send: SendStream,
        recv: RecvStream,
        pending: Bytes,
        outcome: Outcome<'_>,
    ) {
        let upgrade = exchange.is_websocket_upgrade();
        let Ok(mut request) = exchange.into_origin_request() else {
            return reply(&mut send, BAD_REQUEST).await;
        };
        let (recv, pending) = if upgrade {
            (Some(recv), pending)
        } else {
            let tap = outcome.captured.as_ref().map(Captured::request_tap);
            *request.body_mut() = self
                .request_body(request.headers(), recv, pending, tap)
                .await;
            (None, Bytes::new())
        };

        let mut response = match self.client.request(request).await {
            Ok(response) => response,
            Err(_) => {
                self.counters.unreachable();
                outcome.record(StatusCode::BAD_GATEWAY);
                return reply(&mut send, UNREACHABLE).await;
            }
        };
        if let Some(c) = &outcome.captured {
            c.responded(response.status(), response.headers());
        }
        outcome.record(response.status());
        let switched = upgrade && response.status() == StatusCode::SWITCHING_PROTOCOLS;
        let on_upgrade = switched.then(|| hyper::upgrade::on(&mut response));
        let (mut parts, mut body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let head = response_head(parts.status, &parts.headers);
        self.counters.add_from_origin(head.len());
        if send.write_chunk(head).await.is_err() {
            return;
        }

        if let (Some(on_upgrade), Some(mut recv)) = (on_upgrade, recv) {
            let Ok(upgraded) = on_upgrade.await else {
                send.reset(VarInt::from_u32(0)).ok();
                return;
            };
            let (read, write) = tokio::io::split(TokioIo::new(upgraded));
            let (mut read, mut write) = outcome.tapped(read, write);
            splice(
                &mut send,
                &mut recv,
                pending,
                &mut read,
                &mut write,
                &*self.counters,
            )
            .await
            .ok();
            return;
        }

        let tap = outcome.captured.as_ref().map(Captured::response_tap);
        // Each frame goes out as it arrives: SSE and long polls must not wait for more.
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else {
                send.reset(VarInt::from_u32(0)).ok();
                return;
            };
            if let Ok(data) = frame.into_data() {
                self.counters.add_from_origin(data.len());
                if let Some(tap) = &tap {
                    tap.data(&data);
                }
                if send.write_chunk(data).await.is_err() {
                    return;
                }
            }
        }
        send.finish().ok();
    }

    /// The request body streamed from the QUIC stream to the origin.
    ///
    /// The gateway sends bodies undelimited until FIN. Without a `Content-Length` we wait for
    /// the first chunk or the FIN, so a bodiless GET goes out without a chunked empty body.
    async fn request_body(
        &self,
        headers: &HeaderMap,
        mut recv: RecvStream,
        pending: Bytes,
        tap: Option<crate::capture::BodyTap>,
    ) -> OriginBody {
        let first = if !pending.is_empty() || headers.contains_key(header::CONTENT_LENGTH) {
            pending
        } else {
            match recv.read_chunk(usize::MAX).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return empty_body(),
                Err(err) => {
                    let failed = n0_future::stream::once(Err(io::Error::other(err)));
                    return StreamBody::new(failed).boxed_unsync();
                }
            }
        };
        let counters = self.counters.clone();
        let chunks = n0_future::stream::once(Ok(first))
            .chain(chunks(recv, ()))
            .filter(|chunk| chunk.as_ref().map_or(true, |c| !c.is_empty()))
            .map(move |chunk| {
                if let Ok(c) = &chunk {
                    counters.add_to_origin(c.len());
                    if let Some(tap) = &tap {
                        tap.data(c);
                    }
                }
                chunk.map(Frame::data)
            });
        StreamBody::new(chunks).boxed_unsync()
    }
}

/// What the request log needs to know about one request once its status is known, and the
/// inspector's record of it while the inspector is on.
struct Outcome<'a> {
    log: &'a RequestLog,
    peer: &'a str,
    method: &'a str,
    path: &'a str,
    started: Instant,
    captured: Option<Captured>,
}

impl Outcome<'_> {
    fn record(&self, status: StatusCode) {
        self.log.record(
            self.peer,
            self.method,
            self.path,
            status.as_u16(),
            self.started,
        );
        if let Some(c) = &self.captured {
            c.answered(status);
        }
    }

    /// A splice's halves, with the inspector watching the first chunk each way.
    fn tapped<R, W>(&self, read: R, write: W) -> (Tapped<R>, Tapped<W>) {
        let c = self.captured.as_ref();
        (
            Tapped::new(read, c.map(Captured::response_tap)),
            Tapped::new(write, c.map(Captured::request_tap)),
        )
    }
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::UPGRADE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
}

fn empty_body() -> OriginBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// An absolute-form request on its way to the origin.
struct Exchange {
    target: DialTarget,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
}

impl Exchange {
    /// `Upgrade: websocket` is the only upgrade carried.
    fn is_websocket_upgrade(&self) -> bool {
        is_websocket_upgrade(&self.headers)
    }

    /// Rewrites the request to go to the stored target, keeping the visitor's `Host`.
    fn into_origin_request(self) -> Result<Request<OriginBody>, http::Error> {
        let upgrade = self.is_websocket_upgrade();
        let mut headers = self.headers;
        strip_hop_by_hop(&mut headers);
        if !upgrade {
            headers.remove(header::UPGRADE);
            headers.remove(header::CONNECTION);
        }
        if !headers.contains_key(header::HOST)
            && let Some(authority) = self.uri.authority()
            && let Ok(value) = HeaderValue::from_str(authority.as_str())
        {
            headers.insert(header::HOST, value);
        }
        let path = self.uri.path_and_query().map_or("/", |p| p.as_str());
        let uri: Uri = format!("http://{}{}", self.target.authority(), path).parse()?;
        let mut request = Request::builder()
            .method(self.method)
            .uri(uri)
            .body(empty_body())?;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::headers;

    #[test]
    fn origin_request_goes_to_the_stored_target_with_the_visitor_host() {
        let exchange = Exchange {
            target: DialTarget {
                host: "::1".into(),
                port: 8080,
            },
            method: Method::GET,
            uri: "http://localhost:8080/a?b=c".parse().unwrap(),
            headers: headers(&[("host", "localhost:8080"), ("connection", "close")]),
        };
        let request = exchange.into_origin_request().unwrap();
        assert_eq!(request.uri(), "http://[::1]:8080/a?b=c");
        assert_eq!(request.headers()["host"], "localhost:8080");
        assert!(!request.headers().contains_key("connection"));
    }

    #[test]
    fn only_websocket_counts_as_an_upgrade() {
        let mut exchange = Exchange {
            target: DialTarget {
                host: "127.0.0.1".into(),
                port: 1,
            },
            method: Method::GET,
            uri: "http://localhost:1/".parse().unwrap(),
            headers: headers(&[("upgrade", "h2c"), ("connection", "upgrade")]),
        };
        assert!(!exchange.is_websocket_upgrade());
        let request = exchange_clone(&exchange).into_origin_request().unwrap();
        assert!(!request.headers().contains_key("upgrade"));
        exchange.headers = headers(&[("upgrade", "WebSocket"), ("connection", "upgrade")]);
        assert!(exchange.is_websocket_upgrade());
    }

    fn exchange_clone(e: &Exchange) -> Exchange {
        Exchange {
            target: e.target.clone(),
            method: e.method.clone(),
            uri: e.uri.clone(),
            headers: e.headers.clone(),
        }
    }
}
