//! Raw iroh QUIC throughput between two processes on loopback, with no HTTP, no proxy and no
//! JavaScript: the ceiling under the tunnel engine on this machine (`deno task bench tunnel`
//! compares the tunnel with direct TCP; this tells how much of the gap is QUIC itself).
//!
//!   cargo run --release --example quic_ceiling
//!   QC_MIB=512 QC_THREADS=1 cargo run --release --example quic_ceiling
//!
//! It starts itself a second time as the accepting side (`serve`), then times download (the
//! server writes), upload (the client writes), download, upload, one stream each, and prints
//! the client's loss and datagram counts. iroh 1.0.2 builds noq's `EndpointConfig` itself
//! (socket.rs) and never raises `max_udp_payload_size` from its 1472-byte default, so every
//! run here moves at most 1472 bytes per datagram whatever the loopback MTU.
//!
//! Knobs (environment, read by both processes; all through iroh's `QuicTransportConfig`):
//! `QC_MIB` (MiB per transfer, default 1024), `QC_SRW` (stream receive window, bytes), `QC_SW`
//! (send window, bytes), `QC_UB` (MTU discovery upper bound), `QC_GSO=0` (segmentation
//! offload off), `QC_ACKF` / `QC_ACKD` (ACK-eliciting threshold and max ACK delay in ms asked
//! of the peer, ACK frequency extension), `QC_THREADS` (tokio worker threads), `QC_CHUNK`
//! (bytes per write).

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
    time::Instant,
};

use bytes::Bytes;
use iroh::{
    Endpoint, EndpointAddr, EndpointId, RelayMode,
    endpoint::{AckFrequencyConfig, MtuDiscoveryConfig, QuicTransportConfig, VarInt, presets},
};

const ALPN: &[u8] = b"datumctl/quic-ceiling";
const MIB: usize = 1024 * 1024;

fn env_num(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn transport() -> QuicTransportConfig {
    let mut b = QuicTransportConfig::builder().max_concurrent_bidi_streams(VarInt::from_u32(16));
    if let Some(v) = env_num("QC_SRW") {
        b = b.stream_receive_window(VarInt::from_u64(v).unwrap());
    }
    if let Some(v) = env_num("QC_SW") {
        b = b.send_window(v);
    }
    if let Some(v) = env_num("QC_UB") {
        let mut m = MtuDiscoveryConfig::default();
        m.upper_bound(v as u16);
        b = b.mtu_discovery_config(Some(m));
    }
    if let Some(threshold) = env_num("QC_ACKF") {
        let mut a = AckFrequencyConfig::default();
        a.ack_eliciting_threshold(VarInt::from_u64(threshold).unwrap());
        if let Some(ms) = env_num("QC_ACKD") {
            a.max_ack_delay(Some(std::time::Duration::from_millis(ms)));
        }
        b = b.ack_frequency_config(Some(a));
    }
    if env_num("QC_GSO") == Some(0) {
        b = b.enable_segmentation_offload(false);
    }
    b.build()
}

async fn endpoint() -> Endpoint {
    Endpoint::builder(presets::Minimal)
        .relay_mode(RelayMode::Disabled)
        .alpns(vec![ALPN.to_vec()])
        .transport_config(transport())
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap()
        .bind()
        .await
        .unwrap()
}

fn payload() -> Bytes {
    let chunk = env_num("QC_CHUNK").unwrap_or(64 * 1024) as usize;
    Bytes::from((0..chunk).map(|i| (i * 31) as u8).collect::<Vec<u8>>())
}

async fn send_all(send: &mut iroh::endpoint::SendStream, total: usize) {
    let block = payload();
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len());
        send.write_chunk(block.slice(..n)).await.unwrap();
        left -= n;
    }
    send.finish().unwrap();
}

async fn drain(recv: &mut iroh::endpoint::RecvStream) -> usize {
    let mut total = 0;
    let mut buf = vec![0u8; 256 * 1024];
    while let Some(n) = recv.read(&mut buf).await.unwrap() {
        total += n;
    }
    total
}

/// The receiving process: answers each stream's first byte `d` with `total` bytes, `u` by
/// draining and replying with one byte.
async fn serve() {
    let ep = endpoint().await;
    let addr = ep.bound_sockets()[0];
    println!("{} {}", ep.id(), addr);
    let total = env_num("QC_MIB").unwrap_or(1024) as usize * MIB;
    while let Some(incoming) = ep.accept().await {
        let conn = incoming.await.unwrap();
        tokio::spawn(async move {
            while let Ok((mut send, mut recv)) = conn.accept_bi().await {
                tokio::spawn(async move {
                    let mut op = [0u8; 1];
                    recv.read_exact(&mut op).await.unwrap();
                    if op[0] == b'd' {
                        send_all(&mut send, total).await;
                    } else {
                        drain(&mut recv).await;
                        send.write_all(b"k").await.unwrap();
                        send.finish().unwrap();
                    }
                    send.stopped().await.ok();
                });
            }
        });
    }
}

async fn client(id: EndpointId, addr: SocketAddr) {
    let total = env_num("QC_MIB").unwrap_or(1024) as usize * MIB;
    let ep = endpoint().await;
    let conn = ep
        .connect(EndpointAddr::new(id).with_ip_addr(addr), ALPN)
        .await
        .unwrap();
    for op in [b'd', b'u', b'd', b'u'] {
        let (mut send, mut recv) = conn.open_bi().await.unwrap();
        let start = Instant::now();
        send.write_all(&[op]).await.unwrap();
        if op == b'd' {
            let got = drain(&mut recv).await;
            assert_eq!(got, total);
        } else {
            send_all(&mut send, total).await;
            drain(&mut recv).await;
        }
        let secs = start.elapsed().as_secs_f64();
        let what = if op == b'd' { "download" } else { "upload" };
        println!("{what} {:.0} MiB/s", total as f64 / MIB as f64 / secs);
    }
    let stats = conn.stats();
    println!(
        "client side: lost packets {}, datagrams sent {} ({} bytes), received {} ({} bytes)",
        stats.lost_packets,
        stats.udp_tx.datagrams,
        stats.udp_tx.bytes,
        stats.udp_rx.datagrams,
        stats.udp_rx.bytes
    );
    conn.close(0u32.into(), b"done");
    ep.close().await;
}

fn main() {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = env_num("QC_THREADS") {
        rt.worker_threads(n as usize);
    }
    let rt = rt.enable_all().build().unwrap();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        return rt.block_on(serve());
    }
    let mut child = Command::new(&args[0])
        .arg("serve")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let mut parts = line.split_whitespace();
    let id: EndpointId = parts.next().unwrap().parse().unwrap();
    let addr: SocketAddr = parts.next().unwrap().parse().unwrap();
    rt.block_on(client(id, addr));
    child.kill().ok();
    child.wait().ok();
}
