//! The agent's peer allowlist over real QUIC on loopback: with `allowed_peers` set, a peer
//! with a fresh key is refused at the connection (closed with code 403 before any stream is
//! read, counted against its id), an allowed peer is served, and every served request is
//! recorded with the id of the peer that sent it.

use std::sync::Arc;

use datumctl_engine::{
    authorizer::{AllowEntry, Allowlist},
    endpoint::{EndpointSettings, RelayChoice, bind},
    keys::endpoint_id_hex,
    peer_filter::PeerFilter,
    requests::RequestLog,
    stats::{Counters, PeerRegistry},
    upstream::{OriginProxy, PEER_REFUSED_CODE},
    wire::ALPN,
};
use iroh::{
    Endpoint, EndpointAddr, SecretKey, TransportAddr,
    endpoint::{ConnectionError, VarInt},
    protocol::Router,
};
use tokio::{io::AsyncWriteExt, net::TcpListener};

async fn loopback_endpoint(secret_key: SecretKey, alpns: Vec<Vec<u8>>) -> Endpoint {
    bind(EndpointSettings {
        secret_key,
        relays: RelayChoice::Disabled,
        bind_addr: Some("127.0.0.1:0".parse().unwrap()),
        port: None,
        alpns,
        lookup: None,
    })
    .await
    .unwrap()
}

struct Agent {
    _router: Router,
    addr: EndpointAddr,
    filter: Arc<PeerFilter>,
    requests: Arc<RequestLog>,
}

/// An agent serving `127.0.0.1:<origin_port>` to the peers in `allowed` (all when empty).
async fn agent(allowed: &[String], origin_port: u16) -> Agent {
    let endpoint = loopback_endpoint(SecretKey::generate(), vec![ALPN.to_vec()]).await;
    let allowlist = Arc::new(Allowlist::default());
    allowlist.replace(vec![AllowEntry {
        host: "127.0.0.1".into(),
        port: origin_port,
        enabled: true,
    }]);
    let filter = Arc::new(PeerFilter::new(Some(allowed)).unwrap());
    let requests = Arc::new(RequestLog::default());
    let proxy = OriginProxy::new(
        allowlist,
        Arc::new(Counters::default()),
        Arc::new(PeerRegistry::default()),
        requests.clone(),
        filter.clone(),
    );
    let addr = EndpointAddr::from_parts(
        endpoint.id(),
        endpoint.bound_sockets().into_iter().map(TransportAddr::Ip),
    );
    let router = Router::builder(endpoint).accept(ALPN, proxy).spawn();
    Agent {
        _router: router,
        addr,
        filter,
        requests,
    }
}

/// An origin that accepts TCP connections and counts them (it never answers).
async fn counting_origin() -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tcp.shutdown().await.ok();
        }
    });
    (port, hits)
}

/// Opens a stream, asks for `CONNECT 127.0.0.1:<port>` and returns the agent's reply bytes.
async fn connect_request(
    client: &Endpoint,
    to: &EndpointAddr,
    port: u16,
) -> Result<Vec<u8>, String> {
    let conn = client
        .connect(to.clone(), ALPN)
        .await
        .map_err(|e| e.to_string())?;
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
    let head = format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n");
    send.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    send.finish().ok();
    let reply = recv.read_to_end(1 << 16).await;
    match reply {
        Ok(bytes) => Ok(bytes),
        Err(_) => match conn.closed().await {
            ConnectionError::ApplicationClosed(close) => Err(format!(
                "closed {} {}",
                close.error_code,
                String::from_utf8_lossy(&close.reason)
            )),
            other => Err(other.to_string()),
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_peer_outside_the_list_is_refused_at_the_connection() {
    let (port, hits) = counting_origin().await;
    let allowed_key = SecretKey::generate();
    let allowed = vec![endpoint_id_hex(&allowed_key.public())];
    let agent = agent(&allowed, port).await;

    let stranger_key = SecretKey::generate();
    let stranger_id = endpoint_id_hex(&stranger_key.public());
    let stranger = loopback_endpoint(stranger_key, vec![]).await;
    let refused = connect_request(&stranger, &agent.addr, port).await;
    let why = refused.expect_err("a peer with a fresh key must not be served");
    // Whichever step noticed it, the connection was closed with our code and reason.
    let code = format!("{}", VarInt::from_u32(PEER_REFUSED_CODE));
    assert!(
        why.contains("peer not allowed") && why.contains(&code),
        "{why}"
    );
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing was dialled"
    );
    assert!(agent.requests.drain().0.is_empty(), "no request was read");
    let denials = agent.filter.denials();
    assert_eq!(denials.len(), 1);
    assert_eq!(denials[0].0, stranger_id);
    assert_eq!(denials[0].1.connections_refused, 1);

    let friend = loopback_endpoint(allowed_key, vec![]).await;
    let served = connect_request(&friend, &agent.addr, port).await.unwrap();
    assert!(
        served.starts_with(b"HTTP/1.1 200 Connection Established"),
        "{}",
        String::from_utf8_lossy(&served)
    );
    let (entries, _) = agent.requests.drain();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].peer, allowed[0], "the request names its peer");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_list_any_peer_is_served_and_named() {
    let (port, hits) = counting_origin().await;
    let agent = agent(&[], port).await;
    let key = SecretKey::generate();
    let id = endpoint_id_hex(&key.public());
    let client = loopback_endpoint(key, vec![]).await;
    let served = connect_request(&client, &agent.addr, port).await.unwrap();
    assert!(served.starts_with(b"HTTP/1.1 200 Connection Established"));
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    let (entries, _) = agent.requests.drain();
    assert_eq!(entries[0].peer, id);
    // A denied target is counted against the peer that asked for it.
    let denied = connect_request(&client, &agent.addr, port + 1)
        .await
        .unwrap();
    assert!(denied.starts_with(b"HTTP/1.1 403"));
    let denials = agent.filter.denials();
    assert_eq!(
        (denials[0].0.as_str(), denials[0].1.requests_denied),
        (id.as_str(), 1)
    );
}
