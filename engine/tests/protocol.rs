//! The agent's stream protocol byte for byte, spoken by a bare QUIC
//! client on loopback: the exact 403, 502 and 200 heads, bytes after the head, half-close,
//! and de-chunked absolute-form responses.

use std::{net::SocketAddr, sync::Arc};

use datumctl_engine::{
    authorizer::{AllowEntry, Allowlist},
    endpoint::{EndpointSettings, RelayChoice, bind},
    peer_filter::PeerFilter,
    requests::RequestLog,
    stats::{Counters, PeerRegistry},
    upstream::OriginProxy,
    wire::ALPN,
};
use iroh::{
    Endpoint, EndpointAddr, SecretKey, TransportAddr, endpoint::Connection, protocol::Router,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

async fn loopback_endpoint(alpns: Vec<Vec<u8>>) -> Endpoint {
    bind(EndpointSettings {
        secret_key: SecretKey::generate(),
        relays: RelayChoice::Disabled,
        bind_addr: Some("127.0.0.1:0".parse().unwrap()),
        port: None,
        alpns,
        lookup: None,
    })
    .await
    .unwrap()
}

struct Harness {
    _router: Router,
    /// Dropping the client endpoint would close the connection.
    _client: Endpoint,
    conn: Connection,
    allowlist: Arc<Allowlist>,
}

async fn harness() -> Harness {
    let agent = loopback_endpoint(vec![ALPN.to_vec()]).await;
    let allowlist = Arc::new(Allowlist::default());
    let proxy = OriginProxy::new(
        allowlist.clone(),
        Arc::new(Counters::default()),
        Arc::new(PeerRegistry::default()),
        Arc::new(RequestLog::default()),
        Arc::new(PeerFilter::default()),
    );
    let addr = EndpointAddr::from_parts(
        agent.id(),
        agent.bound_sockets().into_iter().map(TransportAddr::Ip),
    );
    let router = Router::builder(agent).accept(ALPN, proxy).spawn();
    let client = loopback_endpoint(vec![]).await;
    let conn = client.connect(addr, ALPN).await.unwrap();
    Harness {
        _router: router,
        _client: client,
        conn,
        allowlist,
    }
}

impl Harness {
    fn allow(&self, host: &str, port: u16) {
        self.allowlist.replace(vec![AllowEntry {
            host: host.into(),
            port,
            enabled: true,
        }]);
    }

    /// Sends `request` in one write, ends our side, and returns everything the agent sent.
    async fn exchange(&self, request: &[u8]) -> Vec<u8> {
        let (mut send, mut recv) = self.conn.open_bi().await.unwrap();
        send.write_all(request).await.unwrap();
        send.finish().unwrap();
        recv.read_to_end(1 << 20).await.unwrap()
    }
}

async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A TCP server that echoes one connection and closes after the peer's EOF.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut data = Vec::new();
        tcp.read_to_end(&mut data).await.unwrap();
        tcp.write_all(&data).await.unwrap();
    });
    addr
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_outside_the_allowlist_gets_exactly_403() {
    let h = harness().await;
    h.allow("localhost", 3000);
    // No Host header: the gateway omits it when the visitor used HTTP/2.
    let reply = h.exchange(b"CONNECT localhost:3001 HTTP/1.1\r\n\r\n").await;
    assert_eq!(
        reply,
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"
    );
    let reply = h
        .exchange(b"CONNECT 192.168.1.10:3000 HTTP/1.1\r\n\r\n")
        .await;
    assert_eq!(
        reply,
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"
    );
    let reply = h
        .exchange(b"GET http://10.0.0.1:3000/ HTTP/1.1\r\nHost: 10.0.0.1:3000\r\n\r\n")
        .await;
    assert_eq!(
        reply,
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_origin_gets_exactly_502() {
    let h = harness().await;
    let port = dead_port().await;
    h.allow("127.0.0.1", port);
    let unreachable = b"HTTP/1.1 502 Origin Is Unreachable\r\ncontent-length: 0\r\n\r\n";
    let head = format!("CONNECT localhost:{port} HTTP/1.1\r\n\r\n");
    assert_eq!(h.exchange(head.as_bytes()).await, unreachable);
    let head = format!("GET http://localhost:{port}/ HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n");
    assert_eq!(h.exchange(head.as_bytes()).await, unreachable);
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_tunnel_keeps_bytes_after_the_head_and_half_closes() {
    let h = harness().await;
    let origin = echo_server().await;
    h.allow("127.0.0.1", origin.port());
    let request = format!(
        "CONNECT localhost:{} HTTP/1.1\r\nHost: localhost:{}\r\n\r\nbytes right after the head",
        origin.port(),
        origin.port()
    );
    let reply = h.exchange(request.as_bytes()).await;
    assert_eq!(
        String::from_utf8(reply).unwrap(),
        "HTTP/1.1 200 Connection Established\r\n\r\nbytes right after the head"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn origin_form_requests_are_refused() {
    let h = harness().await;
    h.allow("localhost", 3000);
    let reply = h
        .exchange(b"GET /x HTTP/1.1\r\nHost: localhost:3000\r\n\r\n")
        .await;
    assert_eq!(
        reply,
        b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn absolute_form_is_sent_in_origin_form_and_answered_dechunked() {
    let h = harness().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let origin = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            tcp.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        tcp.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, x-hop\r\nx-hop: 1\r\nx-kept: 2\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        )
        .await
        .unwrap();
        String::from_utf8(head).unwrap()
    });
    h.allow("127.0.0.1", port);
    let request = format!(
        "GET http://localhost:{port}/p?q=1 HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    );
    let reply = String::from_utf8(h.exchange(request.as_bytes()).await).unwrap();
    let seen = origin.await.unwrap();
    assert!(seen.starts_with("GET /p?q=1 HTTP/1.1\r\n"), "{seen}");
    assert!(
        seen.contains(&format!("host: localhost:{port}\r\n")),
        "{seen}"
    );
    assert_eq!(reply, "HTTP/1.1 200 OK\r\nx-kept: 2\r\n\r\nhello world");
}
