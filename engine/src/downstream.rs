//! The gateway's data path: an HTTP server (HTTP/1.1 and h2c) whose every request becomes one
//! QUIC stream to the agent that serves the request's host.
//!
//! It follows iroh-proxy-utils' `DownstreamProxy` (same pool, same wire format) but moves
//! bodies in large chunks: that proxy reads the agent's stream 4 KiB at a time, which caps a
//! download well below what QUIC carries.
//!
//! - Ordinary requests go out in absolute form, the body streamed until FIN; the response
//!   head is read back and its body streamed to the visitor as it arrives (SSE-safe).
//! - CONNECT and `Upgrade` requests wait for the agent's 200/101, then splice the upgraded
//!   connection with the stream.

use std::{convert::Infallible, io, net::SocketAddr, sync::Arc};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::{
    rt::{TokioExecutor, TokioIo},
    server::conn::auto,
};
use iroh::endpoint::{RecvStream, SendStream, VarInt};
use iroh_proxy_utils::{HttpRequest, HttpResponse, downstream::SrcAddr};
use iroh_util::connection_pool::{ConnectionPool, ConnectionRef};
use n0_future::StreamExt;
use tokio::net::TcpListener;

use crate::{
    routes::RouteTable,
    splice::{ByteCounter, splice},
    wire::{chunks, read_head, request_head, strip_hop_by_hop},
};

type GatewayBody = UnsyncBoxBody<Bytes, io::Error>;

/// Serves visitors from a listener, forwarding to agents over pooled iroh connections.
pub struct Forwarder {
    routes: RouteTable,
    pool: ConnectionPool,
}

/// The gateway keeps no byte counts.
struct Uncounted;

impl ByteCounter for Uncounted {
    fn received_on_quic(&self, _n: usize) {}
    fn sent_on_quic(&self, _n: usize) {}
}

impl Forwarder {
    pub fn new(routes: RouteTable, pool: ConnectionPool) -> Arc<Self> {
        Arc::new(Self { routes, pool })
    }

    /// Accepts visitors until the task is aborted.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let this = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let this = this.clone();
                    async move { Ok::<_, Infallible>(this.handle(req, peer).await) }
                });
                auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await
                    .ok();
            });
        }
    }

    async fn handle(&self, mut req: Request<Incoming>, peer: SocketAddr) -> Response<GatewayBody> {
        let is_connect = req.method() == Method::CONNECT;
        let is_upgrade = is_connect || req.headers().contains_key(header::UPGRADE);
        let on_upgrade = is_upgrade.then(|| hyper::upgrade::on(&mut req));
        let (parts, body) = req.into_parts();
        let mut head = HttpRequest::from_parts(parts);
        let endpoint = match self.routes.route(SrcAddr::Tcp(peer), &mut head) {
            Ok(endpoint) => endpoint,
            Err(status) => return error_response(status),
        };
        let Ok(conn) = self.pool.get_or_connect(endpoint).await else {
            return error_response(StatusCode::SERVICE_UNAVAILABLE);
        };
        let conn = Arc::new(conn);
        let Ok((mut send, mut recv)) = conn.open_bi().await else {
            return error_response(StatusCode::SERVICE_UNAVAILABLE);
        };

        strip_hop_by_hop(&mut head.headers);
        if !is_upgrade {
            head.headers.remove(header::UPGRADE);
        }
        let target = if is_connect {
            head.uri
                .authority()
                .map(|a| a.to_string())
                .unwrap_or_default()
        } else {
            head.uri.to_string()
        };
        if send
            .write_chunk(request_head(&head.method, &target, &head.headers))
            .await
            .is_err()
        {
            return error_response(StatusCode::BAD_GATEWAY);
        }

        // An upgrade keeps its stream for the splice; anything else streams its body now,
        // concurrently with the response (an echo answers before the upload ends).
        let upgrade_send = if is_upgrade {
            Some(send)
        } else {
            tokio::spawn(forward_request_body(body, send, conn.clone()));
            None
        };
        let Ok((response, pending)) = read_head(&mut recv, HttpResponse::parse_with_len).await
        else {
            return error_response(StatusCode::BAD_GATEWAY);
        };
        let upgraded = match is_connect {
            true => response.status.is_success(),
            false => is_upgrade && response.status == StatusCode::SWITCHING_PROTOCOLS,
        };

        let mut builder = Response::builder().status(response.status);
        if let Some(headers) = builder.headers_mut() {
            *headers = response.headers;
        }
        let body = match (upgraded, on_upgrade, upgrade_send) {
            (true, Some(on_upgrade), Some(mut send)) => {
                tokio::spawn(async move {
                    let Ok(client) = on_upgrade.await else {
                        send.reset(VarInt::from_u32(0)).ok();
                        return;
                    };
                    let (mut read, mut write) = tokio::io::split(TokioIo::new(client));
                    splice(
                        &mut send, &mut recv, pending, &mut read, &mut write, &Uncounted,
                    )
                    .await
                    .ok();
                    drop(conn);
                });
                empty_body()
            }
            (_, _, send) => {
                if let Some(mut send) = send {
                    // Refused upgrade: nothing more to send.
                    send.finish().ok();
                }
                response_body(pending, recv, conn)
            }
        };
        builder
            .body(body)
            .unwrap_or_else(|_| error_response(StatusCode::BAD_GATEWAY))
    }
}

/// Streams the visitor's (already de-chunked) body to the agent, then ends the stream.
async fn forward_request_body(mut body: Incoming, mut send: SendStream, _conn: Arc<ConnectionRef>) {
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            send.reset(VarInt::from_u32(0)).ok();
            return;
        };
        if let Ok(data) = frame.into_data()
            && send.write_chunk(data).await.is_err()
        {
            return;
        }
    }
    send.finish().ok();
}

/// The agent's response body: the bytes read with the head, then whatever has arrived at
/// each read, until FIN. The connection guard lives as long as the body.
fn response_body(pending: Bytes, recv: RecvStream, conn: Arc<ConnectionRef>) -> GatewayBody {
    let frames = n0_future::stream::once(Ok(pending))
        .chain(chunks(recv, conn))
        .filter(|chunk| chunk.as_ref().map_or(true, |c| !c.is_empty()))
        .map(|chunk| chunk.map(Frame::data));
    StreamBody::new(frames).boxed_unsync()
}

fn empty_body() -> GatewayBody {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The gateway's own answers: 404 for unknown hosts, `503 Tunnel not online` for agents that
/// are offline or cannot be reached, and the plain status otherwise.
pub fn error_response(status: StatusCode) -> Response<GatewayBody> {
    let text = match status {
        StatusCode::SERVICE_UNAVAILABLE => "Tunnel not online",
        StatusCode::NOT_FOUND => "No tunnel serves this hostname",
        other => other.canonical_reason().unwrap_or("Error"),
    };
    let body = Full::new(Bytes::from(format!("{text}\n")))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len() + 1));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(b"Tunnel not online"));
    }
    response
}
