//! Moving bytes between a QUIC stream and a byte stream (TCP or an upgraded HTTP
//! connection), both ways at once, with half-close carried across: a QUIC FIN becomes a
//! write shutdown on the other side and an EOF there becomes a QUIC FIN.
//!
//! Chunks are handed over as they arrive and never collected, so interactive protocols
//! (WebSocket, SSE, terminals) see each write immediately.

use std::io;

use bytes::{Bytes, BytesMut};
use iroh::endpoint::{RecvStream, SendStream, VarInt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest chunk read from either side at once (below allocators' large-block threshold,
/// so buffers are recycled rather than mapped per read).
const READ_CHUNK: usize = 64 * 1024;

/// Which way a byte went, for the counters.
pub trait ByteCounter: Sync {
    /// Bytes that arrived on the QUIC stream and were written to the other side.
    fn received_on_quic(&self, n: usize);
    /// Bytes read from the other side and sent on the QUIC stream.
    fn sent_on_quic(&self, n: usize);
}

/// Splices `quic` with `(reader, writer)` until both directions have ended.
///
/// `pending` holds bytes already read from the QUIC stream (the part of a request that
/// followed its head); they are written first. On an error in either direction the QUIC
/// stream is reset so the far end learns the tunnel broke rather than ended.
pub async fn splice<R, W>(
    quic_send: &mut SendStream,
    quic_recv: &mut RecvStream,
    pending: Bytes,
    reader: &mut R,
    writer: &mut W,
    counter: &dyn ByteCounter,
) -> io::Result<()>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let inbound = async {
        let res = quic_to_writer(quic_recv, pending, writer, counter).await;
        if res.is_err() {
            quic_recv.stop(VarInt::from_u32(0)).ok();
        }
        res
    };
    let outbound = async {
        let res = reader_to_quic(reader, quic_send, counter).await;
        if res.is_err() {
            quic_send.reset(VarInt::from_u32(0)).ok();
        }
        res
    };
    tokio::try_join!(inbound, outbound).map(|_| ())
}

async fn quic_to_writer<W>(
    recv: &mut RecvStream,
    pending: Bytes,
    writer: &mut W,
    counter: &dyn ByteCounter,
) -> io::Result<()>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    if !pending.is_empty() {
        writer.write_all(&pending).await?;
        counter.received_on_quic(pending.len());
    }
    // QUIC hands data over one packet's worth at a time; reading into a large buffer
    // gathers everything already received, so the other side sees few, large writes.
    let mut buf = vec![0u8; READ_CHUNK];
    while let Some(n) = recv.read(&mut buf).await.map_err(io::Error::other)? {
        writer.write_all(&buf[..n]).await?;
        counter.received_on_quic(n);
    }
    writer.shutdown().await
}

async fn reader_to_quic<R>(
    reader: &mut R,
    send: &mut SendStream,
    counter: &dyn ByteCounter,
) -> io::Result<()>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    loop {
        if buf.capacity() < READ_CHUNK / 4 {
            buf.reserve(READ_CHUNK);
        }
        let n = reader.read_buf(&mut buf).await?;
        if n == 0 {
            break;
        }
        counter.sent_on_quic(n);
        send.write_chunk(buf.split().freeze())
            .await
            .map_err(io::Error::other)?;
    }
    send.finish().map_err(io::Error::other)
}
