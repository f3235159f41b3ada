//! HTTP/1.1 heads on QUIC streams, as both ends of the stream protocol write and read them:
//! reading a head without losing the bytes behind it, writing request
//! and response heads, and dropping hop-by-hop headers. Parsing itself is iroh-proxy-utils'
//! (`HttpRequest`/`HttpResponse`), so both sides read the wire the way Datum's gateway does.

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use iroh::endpoint::RecvStream;

/// ALPN Datum's gateway speaks.
pub const ALPN: &[u8] = iroh_proxy_utils::ALPN;
/// ALPN of earlier iroh-proxy-utils releases; accepting it costs nothing.
pub const LEGACY_ALPN: &[u8] = b"iroh-http-proxy";

/// Largest head accepted on a stream.
pub const HEAD_MAX: usize = 8192;

/// Bytes reserved for each read of a body: below allocators' large-block threshold, so a
/// buffer is recycled from the heap instead of mapped and unmapped per read.
const READ_RESERVE: usize = 64 * 1024;

/// A QUIC stream's remaining bytes as a stream of chunks, each holding everything that had
/// arrived when it was read (one QUIC chunk is a single packet's worth: handing those over
/// one by one would cost the next hop a write each). `keep` stays alive as long as the
/// stream does (the connection guard of a pooled connection).
pub fn chunks<K: Send + 'static>(
    recv: RecvStream,
    keep: K,
) -> impl n0_future::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    let state = (recv, keep, BytesMut::new());
    n0_future::stream::unfold(state, |(mut recv, keep, mut buf)| async move {
        if buf.capacity() - buf.len() < READ_RESERVE / 4 {
            buf.reserve(READ_RESERVE);
        }
        match tokio::io::AsyncReadExt::read_buf(&mut recv, &mut buf).await {
            Ok(0) => None,
            Ok(_) => {
                let chunk = buf.split().freeze();
                Some((Ok(chunk), (recv, keep, buf)))
            }
            Err(err) => Some((Err(err), (recv, keep, buf))),
        }
    })
}

/// Why a head could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum HeadError {
    /// The stream ended or failed before a head arrived.
    Gone,
    /// Not a head we accept (malformed, too long, too many headers).
    Invalid,
}

/// Reads one head with `parse` (an iroh-proxy-utils `parse_with_len`) and returns it with
/// the bytes that followed it: those already belong to the body or the tunnel.
pub async fn read_head<T, E>(
    recv: &mut RecvStream,
    parse: impl Fn(&[u8]) -> Result<Option<(usize, T)>, E>,
) -> Result<(T, Bytes), HeadError> {
    let mut buf = BytesMut::new();
    loop {
        let room = HEAD_MAX.saturating_sub(buf.len());
        if room == 0 {
            return Err(HeadError::Invalid);
        }
        match recv.read_chunk(room).await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk),
            Ok(None) if buf.is_empty() => return Err(HeadError::Gone),
            Ok(None) => return Err(HeadError::Invalid),
            Err(_) => return Err(HeadError::Gone),
        }
        match parse(&buf) {
            Ok(Some((len, head))) => return Ok((head, buf.split_off(len).freeze())),
            Ok(None) => continue,
            Err(_) => return Err(HeadError::Invalid),
        }
    }
}

/// Removes hop-by-hop headers (RFC 9110 §7.6.1): `Connection` and every header it names,
/// `Keep-Alive`, `Proxy-Authenticate`, `Proxy-Authorization`, `TE`, `Trailer` and
/// `Transfer-Encoding`. If `Connection` named `upgrade`, `Connection: upgrade` stays so the
/// next hop still sees the upgrade.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    let keeps_upgrade = named.iter().any(|n| n == "upgrade");
    for name in [
        header::CONNECTION,
        header::PROXY_AUTHENTICATE,
        header::PROXY_AUTHORIZATION,
        header::TE,
        header::TRAILER,
        header::TRANSFER_ENCODING,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
    for name in named.iter().filter(|n| n.as_str() != "upgrade") {
        headers.remove(name.as_str());
    }
    if keeps_upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    }
}

fn push_headers(head: &mut BytesMut, headers: &HeaderMap) {
    for (name, value) in headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
}

/// `HTTP/1.1 <code> <canonical reason>`, the headers, and the blank line.
pub fn response_head(status: StatusCode, headers: &HeaderMap) -> Bytes {
    let mut head = BytesMut::with_capacity(256);
    head.extend_from_slice(
        format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .as_bytes(),
    );
    push_headers(&mut head, headers);
    head.freeze()
}

/// `<method> <target> HTTP/1.1`, the headers, and the blank line.
pub fn request_head(method: &http::Method, target: &str, headers: &HeaderMap) -> Bytes {
    let mut head = BytesMut::with_capacity(512);
    head.extend_from_slice(format!("{method} {target} HTTP/1.1\r\n").as_bytes());
    push_headers(&mut head, headers);
    head.freeze()
}

/// A header map from static pairs (tests of this module and of the proxies).
#[cfg(test)]
pub(crate) fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                http::HeaderName::from_static(k),
                HeaderValue::from_static(v),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_headers_and_those_connection_names() {
        let mut h = headers(&[
            ("connection", "keep-alive, x-secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            ("trailer", "x-sum"),
            ("proxy-authorization", "Basic Zm9v"),
            ("content-type", "text/plain"),
        ]);
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert_eq!(h["content-type"], "text/plain");
    }

    #[test]
    fn keeps_upgrade_with_connection_reduced_to_upgrade() {
        let mut h = headers(&[
            ("connection", "Upgrade, keep-alive"),
            ("upgrade", "websocket"),
        ]);
        strip_hop_by_hop(&mut h);
        assert_eq!(h["connection"], "upgrade");
        assert_eq!(h["upgrade"], "websocket");
    }

    #[test]
    fn heads_use_http11_and_canonical_reasons() {
        let h = headers(&[("content-length", "0")]);
        assert_eq!(
            &response_head(StatusCode::NOT_FOUND, &h)[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        );
        assert_eq!(
            &request_head(&http::Method::CONNECT, "localhost:80", &HeaderMap::new())[..],
            b"CONNECT localhost:80 HTTP/1.1\r\n\r\n"
        );
    }
}
