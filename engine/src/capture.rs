//! The request inspector's capture: what each request the agent served looked like, kept in
//! a bounded ring inside the engine (`--inspect` turns it on; it is off otherwise).
//!
//! The proxy calls in at four points: the request head arrived ([`Capture::begin`]), a body
//! chunk went by ([`BodyTap::data`]), the origin answered ([`Exchange::responded`]), and the
//! exchange ended (dropping the [`Exchange`]). Each call copies at most the first
//! `body_limit` bytes of a body and otherwise only bumps an atomic, so the proxy never waits
//! on the capture and nothing it does can slow a transfer down. Streaming bodies (SSE,
//! chunked responses, WebSocket upgrades, CONNECT tunnels) are "streamed": only their first
//! chunk is kept.
//!
//! JavaScript reads it through [`RequestCapture`]: summaries changed since a sequence number
//! (no bodies), one request by id with its headers and body prefixes (secret headers masked
//! unless asked otherwise), and a replay that re-sends a captured request to the same local
//! origin and records the result as a new entry marked as a replay. Bodies never leave the
//! engine except as that prefix.

use std::{
    collections::VecDeque,
    io,
    pin::Pin,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::authorizer::DialTarget;

/// Bytes of each body kept by default.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
/// Requests kept by default.
pub const DEFAULT_CAPACITY: usize = 500;
/// Largest body prefix a caller may ask for (the ring holds `capacity` of them, twice).
pub const MAX_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Most requests a caller may ask to keep.
pub const MAX_CAPACITY: usize = 100_000;
/// What a secret header's value reads as unless secrets are shown. A replay that sends this
/// value back for a secret header gets the captured value instead.
pub const MASK: &str = "[masked]";
/// Headers whose values are credentials.
const SECRET_HEADERS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::SET_COOKIE,
    header::PROXY_AUTHORIZATION,
];
/// How long a replay may take before it is recorded as failed.
const REPLAY_TIMEOUT: Duration = Duration::from_secs(30);

/// How capture behaves once enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureSettings {
    /// Bytes kept of each body; 0 keeps headers only.
    pub body_limit: usize,
    /// Requests kept; the oldest goes when a new one arrives.
    pub capacity: usize,
    /// Show `Authorization`, `Cookie`, `Set-Cookie` and `Proxy-Authorization` as they were.
    pub show_secrets: bool,
}

impl Default for CaptureSettings {
    fn default() -> Self {
        Self {
            body_limit: DEFAULT_BODY_LIMIT,
            capacity: DEFAULT_CAPACITY,
            show_secrets: false,
        }
    }
}

/// What kind of exchange a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    /// One absolute-form request and its response.
    Http,
    /// A WebSocket upgrade (a splice once the origin said 101).
    WebSocket,
    /// A CONNECT tunnel (raw bytes both ways).
    Connect,
}

impl ExchangeKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::WebSocket => "websocket",
            Self::Connect => "connect",
        }
    }
}

/// One body's captured prefix.
#[derive(Debug, Default, Clone)]
pub struct BodyPrefix {
    pub bytes: BytesMut,
    /// More bytes went by than were kept.
    pub truncated: bool,
}

/// Everything known about one exchange (bodies only as their prefixes).
#[derive(Debug, Clone)]
pub struct Record {
    pub kind: ExchangeKind,
    /// Milliseconds since the Unix epoch when the head arrived.
    pub time_ms: f64,
    pub started: Instant,
    /// The remote peer's endpoint id (normally the gateway), or `replay`.
    pub peer: String,
    pub method: String,
    pub path: String,
    /// Where the agent dialed (kept so a replay goes to the same origin).
    pub target: Option<DialTarget>,
    pub request_headers: HeaderMap,
    pub request_body: BodyPrefix,
    pub status: Option<u16>,
    pub response_headers: HeaderMap,
    pub response_body: BodyPrefix,
    /// From the request head to the response head.
    pub duration_ms: Option<f64>,
    /// From the request head to the end of the exchange.
    pub total_ms: Option<f64>,
    /// Only the first chunk of each body is kept.
    pub streamed: bool,
    pub done: bool,
    /// The id of the request this one replayed.
    pub replay_of: Option<u64>,
    pub error: Option<String>,
}

/// A record in the ring: its fixed id, the sequence number of its last change, the record,
/// and its byte counters (atomics, so the proxy adds to them without taking the lock).
#[derive(Debug)]
pub struct Slot {
    id: u64,
    seq: AtomicU64,
    record: Mutex<Record>,
    request_bytes: AtomicU64,
    response_bytes: AtomicU64,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, Record> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A summary of one record (no headers, no bodies), for lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub id: u64,
    pub seq: u64,
    pub kind: ExchangeKind,
    pub time_ms: f64,
    pub peer: String,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    pub duration_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub streamed: bool,
    pub done: bool,
    pub replay_of: Option<u64>,
    pub error: Option<String>,
    pub content_type: Option<String>,
}

/// A full snapshot of one record, secrets masked as the settings say.
#[derive(Debug, Clone)]
pub struct Detail {
    pub summary: Summary,
    pub target: Option<String>,
    pub request_headers: Vec<(String, String, bool)>,
    pub response_headers: Vec<(String, String, bool)>,
    pub request_body: BodyPrefix,
    pub response_body: BodyPrefix,
}

/// The ring of captured exchanges; disabled until [`Capture::enable`].
#[derive(Debug, Default)]
pub struct Capture {
    settings: OnceLock<CaptureSettings>,
    ring: Mutex<VecDeque<Arc<Slot>>>,
    next_id: AtomicU64,
    seq: AtomicU64,
    client: OnceLock<Client<HttpConnector, Full<Bytes>>>,
}

impl Capture {
    /// Turns capture on with `settings`; later calls must ask for the same settings.
    pub fn enable(&self, settings: CaptureSettings) -> Result<(), String> {
        if settings.capacity == 0 || settings.capacity > MAX_CAPACITY {
            return Err(format!(
                "the inspector keeps 1 to {MAX_CAPACITY} requests, not {}",
                settings.capacity
            ));
        }
        if settings.body_limit > MAX_BODY_LIMIT {
            return Err(format!(
                "the inspector keeps at most {} KiB of a body, not {} KiB",
                MAX_BODY_LIMIT / 1024,
                settings.body_limit / 1024
            ));
        }
        let current = self.settings.get_or_init(|| settings);
        if *current != settings {
            return Err("the inspector is already on with other settings".into());
        }
        Ok(())
    }

    /// The settings, when capture is on.
    pub fn settings(&self) -> Option<CaptureSettings> {
        self.settings.get().copied()
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn touch(&self, slot: &Slot) {
        slot.seq.store(self.next_seq(), Ordering::Relaxed);
    }

    /// Starts a record for a request whose head just arrived; `None` while capture is off.
    pub fn begin(
        self: &Arc<Self>,
        kind: ExchangeKind,
        peer: &str,
        method: &str,
        path: &str,
        headers: &HeaderMap,
        started: Instant,
    ) -> Option<Exchange> {
        let settings = self.settings()?;
        let record = Record {
            kind,
            time_ms: now_ms(),
            started,
            peer: peer.to_string(),
            method: method.to_string(),
            path: path.to_string(),
            target: None,
            request_headers: headers.clone(),
            request_body: BodyPrefix::default(),
            status: None,
            response_headers: HeaderMap::new(),
            response_body: BodyPrefix::default(),
            duration_ms: None,
            total_ms: None,
            streamed: kind != ExchangeKind::Http,
            done: false,
            replay_of: None,
            error: None,
        };
        Some(self.push(record, settings))
    }

    fn push(self: &Arc<Self>, record: Record, settings: CaptureSettings) -> Exchange {
        let slot = Arc::new(Slot {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            seq: AtomicU64::new(0),
            record: Mutex::new(record),
            request_bytes: AtomicU64::new(0),
            response_bytes: AtomicU64::new(0),
        });
        {
            let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
            while ring.len() >= settings.capacity {
                ring.pop_front();
            }
            ring.push_back(slot.clone());
        }
        self.touch(&slot);
        Exchange {
            capture: self.clone(),
            slot,
            body_limit: settings.body_limit,
        }
    }

    fn find(&self, id: u64) -> Option<Arc<Slot>> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        // Ids grow along the ring, so a binary search finds one among thousands at once.
        let index = ring.binary_search_by_key(&id, |s| s.id).ok()?;
        Some(ring[index].clone())
    }

    /// Summaries of the records changed after `since` (oldest change first), and the sequence
    /// number to pass next time.
    pub fn changes(&self, since: u64) -> (Vec<Summary>, u64) {
        let slots: Vec<Arc<Slot>> = {
            let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
            ring.iter()
                .filter(|s| s.seq.load(Ordering::Relaxed) > since)
                .cloned()
                .collect()
        };
        let mut summaries: Vec<Summary> = slots.iter().map(|s| summarize(s)).collect();
        summaries.sort_by_key(|s| s.seq);
        let latest = summaries.last().map_or(since, |s| s.seq).max(since);
        (summaries, latest)
    }

    /// The ids of every record kept, oldest first.
    pub fn ids(&self) -> Vec<u64> {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        ring.iter().map(|s| s.id).collect()
    }

    /// One record with headers and body prefixes; secrets masked unless the settings say not.
    pub fn detail(&self, id: u64) -> Option<Detail> {
        let slot = self.find(id)?;
        let show = self.settings().is_some_and(|s| s.show_secrets);
        let summary = summarize(&slot);
        let record = slot.lock();
        Some(Detail {
            summary,
            target: record.target.as_ref().map(DialTarget::authority),
            request_headers: header_list(&record.request_headers, show),
            response_headers: header_list(&record.response_headers, show),
            request_body: record.request_body.clone(),
            response_body: record.response_body.clone(),
        })
    }

    /// Re-sends captured request `id` to the origin it went to, changed by `edits`, and
    /// records the outcome as a new entry (`replay_of` = `id`). Returns the new entry's id.
    pub async fn replay(self: &Arc<Self>, id: u64, edits: ReplayEdit) -> Result<u64, String> {
        let settings = self
            .settings()
            .ok_or_else(|| "the inspector is off".to_string())?;
        let slot = self
            .find(id)
            .ok_or_else(|| format!("request {id} is no longer kept"))?;
        let (request, target) = replay_request(&slot.lock(), edits)?;
        let record = Record {
            kind: ExchangeKind::Http,
            time_ms: now_ms(),
            started: Instant::now(),
            peer: "replay".into(),
            method: request.method().to_string(),
            path: request
                .uri()
                .path_and_query()
                .map_or_else(|| "/".into(), |p| p.to_string()),
            target: Some(target),
            request_headers: request.headers().clone(),
            request_body: BodyPrefix::default(),
            status: None,
            response_headers: HeaderMap::new(),
            response_body: BodyPrefix::default(),
            duration_ms: None,
            total_ms: None,
            streamed: false,
            done: false,
            replay_of: Some(id),
            error: None,
        };
        let exchange = self.push(record, settings);
        let tap = exchange.request_tap();
        if let Some(body) = request
            .body()
            .clone()
            .collect()
            .await
            .ok()
            .map(|b| b.to_bytes())
        {
            tap.data(&body);
        }
        drop(tap);
        let client = self.client.get_or_init(|| {
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(0)
                .build(connector)
        });
        let outcome = tokio::time::timeout(REPLAY_TIMEOUT, async {
            let response = client.request(request).await.map_err(|e| e.to_string())?;
            exchange.responded(response.status(), response.headers());
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| e.to_string())?;
                if let Ok(data) = frame.into_data() {
                    exchange.response_chunk(&data);
                }
            }
            Ok::<(), String>(())
        })
        .await;
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(err)) => exchange.failed(&format!("the origin did not answer: {err}")),
            Err(_) => exchange.failed("the origin did not answer within 30 s"),
        }
        Ok(exchange.slot.id)
    }
}

/// What a replay changes in the captured request; `None` keeps the original.
#[derive(Debug, Default, Clone)]
pub struct ReplayEdit {
    pub method: Option<String>,
    /// Path and query (must start with `/`).
    pub path: Option<String>,
    /// Replaces every header; a secret header sent as [`MASK`] keeps its captured value.
    pub headers: Option<Vec<(String, String)>>,
    pub body: Option<Bytes>,
}

fn replay_request(
    record: &Record,
    edits: ReplayEdit,
) -> Result<(Request<Full<Bytes>>, DialTarget), String> {
    if record.kind != ExchangeKind::Http {
        return Err(format!(
            "only plain HTTP requests can be replayed, not a {} exchange",
            record.kind.as_str()
        ));
    }
    let target = record
        .target
        .clone()
        .ok_or_else(|| "this request never reached an origin (it was refused)".to_string())?;
    let method = match edits.method {
        Some(m) => Method::from_bytes(m.trim().as_bytes())
            .map_err(|_| format!("{m:?} is not an HTTP method"))?,
        None => Method::from_bytes(record.method.as_bytes()).map_err(|e| e.to_string())?,
    };
    let path = edits.path.unwrap_or_else(|| record.path.clone());
    if !path.starts_with('/') {
        return Err(format!("the path must start with /, not {path:?}"));
    }
    let uri: Uri = format!("http://{}{}", target.authority(), path)
        .parse()
        .map_err(|_| format!("{path:?} is not a valid path"))?;
    let mut headers = match edits.headers {
        None => record.request_headers.clone(),
        Some(list) => {
            let mut map = HeaderMap::new();
            for (name, value) in list {
                let name = HeaderName::from_bytes(name.trim().as_bytes())
                    .map_err(|_| format!("{name:?} is not a header name"))?;
                if value == MASK && is_secret(&name) {
                    for original in record.request_headers.get_all(&name) {
                        map.append(name.clone(), original.clone());
                    }
                    continue;
                }
                let value = HeaderValue::from_str(&value)
                    .map_err(|_| format!("the value of {name} is not a valid header value"))?;
                map.append(name, value);
            }
            map
        }
    };
    let body = match edits.body {
        Some(body) => body,
        None if record.request_body.truncated => {
            return Err(format!(
                "the captured body was cut at {} bytes, so it cannot be replayed as it was; send an edited body",
                record.request_body.bytes.len()
            ));
        }
        None => record.request_body.bytes.clone().freeze(),
    };
    crate::wire::strip_hop_by_hop(&mut headers);
    headers.remove(header::UPGRADE);
    headers.remove(header::CONTENT_LENGTH);
    if !body.is_empty() || method_has_body(&method) {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    *request.headers_mut() = headers;
    Ok((request, target))
}

fn method_has_body(method: &Method) -> bool {
    matches!(*method, Method::POST | Method::PUT | Method::PATCH)
}

fn is_secret(name: &HeaderName) -> bool {
    SECRET_HEADERS.contains(name)
}

fn header_list(headers: &HeaderMap, show_secrets: bool) -> Vec<(String, String, bool)> {
    headers
        .iter()
        .map(|(name, value)| {
            let masked = !show_secrets && is_secret(name);
            let text = if masked {
                MASK.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_string(), text, masked)
        })
        .collect()
}

fn summarize(slot: &Slot) -> Summary {
    let record = slot.lock();
    Summary {
        id: slot.id,
        seq: slot.seq.load(Ordering::Relaxed),
        kind: record.kind,
        time_ms: record.time_ms,
        peer: record.peer.clone(),
        method: record.method.clone(),
        path: record.path.clone(),
        status: record.status,
        duration_ms: record.duration_ms,
        total_ms: record.total_ms,
        request_bytes: slot.request_bytes.load(Ordering::Relaxed),
        response_bytes: slot.response_bytes.load(Ordering::Relaxed),
        streamed: record.streamed,
        done: record.done,
        replay_of: record.replay_of,
        error: record.error.clone(),
        content_type: record
            .response_headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn elapsed_ms(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// A response is streamed when it has no known length: SSE, chunked, or a 101 upgrade.
fn is_streamed_response(status: StatusCode, headers: &HeaderMap) -> bool {
    status == StatusCode::SWITCHING_PROTOCOLS
        || !headers.contains_key(header::CONTENT_LENGTH)
            && status != StatusCode::NO_CONTENT
            && status != StatusCode::NOT_MODIFIED
        || headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("text/event-stream"))
}

/// The proxy's handle on one record. Dropping it ends the record (its total time is taken).
#[derive(Debug)]
pub struct Exchange {
    capture: Arc<Capture>,
    slot: Arc<Slot>,
    body_limit: usize,
}

/// Which body a tap feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

impl Exchange {
    /// The record's id.
    pub fn id(&self) -> u64 {
        self.slot.id
    }

    /// Remembers where the request was sent (a replay goes there too).
    pub fn dialed(&self, target: &DialTarget) {
        self.slot.lock().target = Some(target.clone());
    }

    /// The status (and headers, when the origin sent some) the visitor got.
    pub fn responded(&self, status: StatusCode, headers: &HeaderMap) {
        {
            let mut record = self.slot.lock();
            record.status = Some(status.as_u16());
            record.response_headers = headers.clone();
            record.duration_ms = Some(elapsed_ms(record.started));
            if is_streamed_response(status, headers) {
                record.streamed = true;
            }
        }
        self.capture.touch(&self.slot);
    }

    /// The status the agent answered with itself (403, 502, a CONNECT's 200), unless the
    /// origin's answer was recorded already.
    pub fn answered(&self, status: StatusCode) {
        {
            let mut record = self.slot.lock();
            if record.status.is_some() {
                return;
            }
            record.status = Some(status.as_u16());
            record.duration_ms = Some(elapsed_ms(record.started));
        }
        self.capture.touch(&self.slot);
    }

    /// Records that the exchange failed after its head (origin gone mid-body, replay error).
    pub fn failed(&self, error: &str) {
        {
            let mut record = self.slot.lock();
            if record.status.is_none() {
                record.status = Some(StatusCode::BAD_GATEWAY.as_u16());
                record.duration_ms = Some(elapsed_ms(record.started));
            }
            record.error = Some(error.to_string());
        }
        self.capture.touch(&self.slot);
    }

    /// A tap for the request body, to move into the body stream.
    pub fn request_tap(&self) -> BodyTap {
        self.tap(Side::Request)
    }

    /// A tap for the response body (or the origin-to-visitor side of a splice).
    pub fn response_tap(&self) -> BodyTap {
        self.tap(Side::Response)
    }

    fn tap(&self, side: Side) -> BodyTap {
        BodyTap {
            capture: self.capture.clone(),
            slot: self.slot.clone(),
            side,
            limit: self.body_limit,
            capturing: AtomicBool::new(self.body_limit > 0),
        }
    }

    /// One chunk of the response body (without a separate tap).
    pub fn response_chunk(&self, data: &[u8]) {
        record_chunk(
            &self.capture,
            &self.slot,
            Side::Response,
            self.body_limit,
            data,
        );
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        {
            let mut record = self.slot.lock();
            record.done = true;
            record.total_ms = Some(elapsed_ms(record.started));
        }
        self.capture.touch(&self.slot);
    }
}

/// Copies the first bytes of one body into a record and counts the rest.
#[derive(Debug)]
pub struct BodyTap {
    capture: Arc<Capture>,
    slot: Arc<Slot>,
    side: Side,
    limit: usize,
    /// Cleared once the prefix is full: from then on a chunk costs one atomic add.
    capturing: AtomicBool,
}

impl BodyTap {
    /// A chunk of the body went by.
    pub fn data(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if !self.capturing.load(Ordering::Relaxed) {
            counter(&self.slot, self.side).fetch_add(data.len() as u64, Ordering::Relaxed);
            return;
        }
        let full = record_chunk(&self.capture, &self.slot, self.side, self.limit, data);
        if full {
            self.capturing.store(false, Ordering::Relaxed);
        }
    }
}

fn counter(slot: &Slot, side: Side) -> &AtomicU64 {
    match side {
        Side::Request => &slot.request_bytes,
        Side::Response => &slot.response_bytes,
    }
}

/// Counts `data` and keeps what fits of it; true once nothing more will be kept.
fn record_chunk(capture: &Capture, slot: &Slot, side: Side, limit: usize, data: &[u8]) -> bool {
    let before = counter(slot, side).fetch_add(data.len() as u64, Ordering::Relaxed);
    let (full, first_of_stream) = {
        let mut record = slot.lock();
        let streamed = record.streamed;
        let body = match side {
            Side::Request => &mut record.request_body,
            Side::Response => &mut record.response_body,
        };
        if body.truncated {
            return true;
        }
        // A streamed body keeps its first chunk only; others keep everything up to the limit.
        let room = if streamed && before > 0 {
            0
        } else {
            limit.saturating_sub(body.bytes.len())
        };
        let take = room.min(data.len());
        body.bytes.extend_from_slice(&data[..take]);
        if take < data.len() {
            body.truncated = true;
        }
        let full = body.truncated || body.bytes.len() >= limit || streamed;
        (full, streamed && before == 0)
    };
    // A stream may last for hours: its first chunk is news now, not at the end.
    if first_of_stream {
        capture.touch(slot);
    }
    full
}

/// A reader or writer of a splice whose bytes feed a [`BodyTap`] (CONNECT and WebSocket).
#[derive(Debug)]
pub struct Tapped<T> {
    inner: T,
    tap: Option<BodyTap>,
}

impl<T> Tapped<T> {
    /// Wraps `inner`; without a tap it only passes bytes through.
    pub fn new(inner: T, tap: Option<BodyTap>) -> Self {
        Self { inner, tap }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tapped<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some(tap)) = (&poll, &self.tap) {
            tap.data(&buf.filled()[before..]);
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tapped<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, data);
        if let (Poll::Ready(Ok(n)), Some(tap)) = (&poll, &self.tap) {
            tap.data(&data[..*n]);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------------------
// JavaScript's view

/// How to turn the inspector's capture on (`Agent.capture().enable`).
#[napi(object)]
pub struct InspectOptions {
    /// Bytes kept of each body (default 65 536; 0 = headers only).
    pub body_limit: Option<u32>,
    /// Requests kept (default 500).
    pub capacity: Option<u32>,
    /// Show secret headers as they were (default false: masked).
    pub show_secrets: Option<bool>,
}

/// One captured request, without headers or bodies.
#[napi(object)]
pub struct CapturedSummary {
    pub id: f64,
    /// The change that last touched it (see `changes`).
    pub seq: f64,
    /// `http`, `websocket` or `connect`.
    pub kind: String,
    /// When the head arrived, in milliseconds since the Unix epoch.
    pub time_ms: f64,
    /// The remote peer's endpoint id, or `replay`.
    pub peer: String,
    pub method: String,
    pub path: String,
    pub status: Option<u32>,
    pub duration_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub request_bytes: f64,
    pub response_bytes: f64,
    pub streamed: bool,
    pub done: bool,
    pub replay_of: Option<f64>,
    pub error: Option<String>,
    pub content_type: Option<String>,
}

/// One header as the inspector shows it.
#[napi(object)]
pub struct CapturedHeader {
    pub name: String,
    pub value: String,
    /// The value is hidden (a credential).
    pub masked: bool,
}

/// One captured request with its headers and the captured prefix of each body.
#[napi(object)]
pub struct CapturedRequest {
    pub summary: CapturedSummary,
    /// `host:port` the agent dialed.
    pub target: Option<String>,
    pub request_headers: Vec<CapturedHeader>,
    pub response_headers: Vec<CapturedHeader>,
    pub request_body: Buffer,
    pub request_body_truncated: bool,
    pub response_body: Buffer,
    pub response_body_truncated: bool,
}

/// Summaries changed since a sequence number.
#[napi(object)]
pub struct CaptureChanges {
    pub requests: Vec<CapturedSummary>,
    /// Pass this to the next `changes` call.
    pub seq: f64,
    /// The ids still kept, oldest first (so a reader can forget evicted ones).
    pub kept_from: f64,
}

/// A header to send in a replay.
#[napi(object)]
pub struct ReplayHeader {
    pub name: String,
    pub value: String,
}

/// What a replay changes; absent fields keep the captured request's.
#[napi(object)]
pub struct ReplayOptions {
    pub method: Option<String>,
    pub path: Option<String>,
    pub headers: Option<Vec<ReplayHeader>>,
    pub body: Option<Buffer>,
}

/// The agent's request capture, for the inspector.
#[napi]
pub struct RequestCapture {
    inner: Arc<Capture>,
}

impl RequestCapture {
    /// Wraps the agent's capture.
    pub fn new(inner: Arc<Capture>) -> Self {
        Self { inner }
    }
}

fn to_js_summary(s: Summary) -> CapturedSummary {
    CapturedSummary {
        id: s.id as f64,
        seq: s.seq as f64,
        kind: s.kind.as_str().to_string(),
        time_ms: s.time_ms,
        peer: s.peer,
        method: s.method,
        path: s.path,
        status: s.status.map(u32::from),
        duration_ms: s.duration_ms,
        total_ms: s.total_ms,
        request_bytes: s.request_bytes as f64,
        response_bytes: s.response_bytes as f64,
        streamed: s.streamed,
        done: s.done,
        replay_of: s.replay_of.map(|id| id as f64),
        error: s.error,
        content_type: s.content_type,
    }
}

fn to_js_headers(list: Vec<(String, String, bool)>) -> Vec<CapturedHeader> {
    list.into_iter()
        .map(|(name, value, masked)| CapturedHeader {
            name,
            value,
            masked,
        })
        .collect()
}

fn id_from_js(id: f64) -> napi::Result<u64> {
    if id.is_finite() && id >= 0.0 && id.fract() == 0.0 {
        Ok(id as u64)
    } else {
        Err(napi::Error::from_reason(format!(
            "{id} is not a request id"
        )))
    }
}

#[napi]
impl RequestCapture {
    /// Turns capture on (it is off until then); a second call must repeat the same options.
    #[napi]
    pub fn enable(&self, options: InspectOptions) -> napi::Result<()> {
        let defaults = CaptureSettings::default();
        let settings = CaptureSettings {
            body_limit: options
                .body_limit
                .map_or(defaults.body_limit, |n| n as usize),
            capacity: options.capacity.map_or(defaults.capacity, |n| n as usize),
            show_secrets: options.show_secrets.unwrap_or(false),
        };
        self.inner
            .enable(settings)
            .map_err(napi::Error::from_reason)
    }

    /// Whether capture is on.
    #[napi(getter)]
    pub fn enabled(&self) -> bool {
        self.inner.settings().is_some()
    }

    /// Requests changed after sequence number `since` (0: everything kept), oldest change first.
    #[napi]
    pub fn changes(&self, since: f64) -> napi::Result<CaptureChanges> {
        let (summaries, seq) = self.inner.changes(id_from_js(since)?);
        let kept_from = self.inner.ids().first().copied().unwrap_or(0);
        Ok(CaptureChanges {
            requests: summaries.into_iter().map(to_js_summary).collect(),
            seq: seq as f64,
            kept_from: kept_from as f64,
        })
    }

    /// One request with headers and body prefixes, or null when it is not (or no longer) kept.
    #[napi]
    pub fn get(&self, id: f64) -> napi::Result<Option<CapturedRequest>> {
        let Some(detail) = self.inner.detail(id_from_js(id)?) else {
            return Ok(None);
        };
        Ok(Some(CapturedRequest {
            summary: to_js_summary(detail.summary),
            target: detail.target,
            request_headers: to_js_headers(detail.request_headers),
            response_headers: to_js_headers(detail.response_headers),
            request_body_truncated: detail.request_body.truncated,
            request_body: Buffer::from(detail.request_body.bytes.to_vec()),
            response_body_truncated: detail.response_body.truncated,
            response_body: Buffer::from(detail.response_body.bytes.to_vec()),
        }))
    }

    /// Re-sends request `id` to its origin (changed by `options`); resolves with the id of the
    /// new entry that records the replay.
    #[napi]
    pub async fn replay(&self, id: f64, options: Option<ReplayOptions>) -> napi::Result<f64> {
        let id = id_from_js(id)?;
        let edits = options.map_or_else(ReplayEdit::default, |o| ReplayEdit {
            method: o.method,
            path: o.path,
            headers: o
                .headers
                .map(|list| list.into_iter().map(|h| (h.name, h.value)).collect()),
            body: o.body.map(|b| Bytes::copy_from_slice(&b)),
        });
        let new_id = self
            .inner
            .replay(id, edits)
            .await
            .map_err(napi::Error::from_reason)?;
        Ok(new_id as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::headers;

    fn enabled(body_limit: usize, capacity: usize) -> Arc<Capture> {
        let capture = Arc::new(Capture::default());
        capture
            .enable(CaptureSettings {
                body_limit,
                capacity,
                show_secrets: false,
            })
            .unwrap();
        capture
    }

    fn begin(capture: &Arc<Capture>, path: &str) -> Option<Exchange> {
        capture.begin(
            ExchangeKind::Http,
            "peer",
            "GET",
            path,
            &HeaderMap::new(),
            Instant::now(),
        )
    }

    #[test]
    fn off_until_enabled() {
        let capture = Arc::new(Capture::default());
        assert!(begin(&capture, "/").is_none());
        assert!(capture.changes(0).0.is_empty());
    }

    #[test]
    fn the_ring_keeps_the_last_capacity_requests() {
        let capture = enabled(16, 3);
        for i in 0..5 {
            drop(begin(&capture, &format!("/{i}")).unwrap());
        }
        let (kept, _) = capture.changes(0);
        let paths: Vec<_> = kept.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["/2", "/3", "/4"]);
        assert!(capture.detail(kept[0].id - 1).is_none(), "evicted");
        assert!(capture.detail(kept[2].id).is_some());
    }

    #[test]
    fn changes_since_a_sequence_number_return_only_what_moved() {
        let capture = enabled(16, 10);
        let first = begin(&capture, "/a").unwrap();
        let (all, seq) = capture.changes(0);
        assert_eq!(all.len(), 1);
        assert!(!all[0].done);
        let second = begin(&capture, "/b").unwrap();
        let (moved, seq2) = capture.changes(seq);
        assert_eq!(moved.len(), 1);
        assert_eq!(moved[0].path, "/b");
        first.responded(StatusCode::OK, &headers(&[("content-length", "2")]));
        drop(first);
        let (moved, seq3) = capture.changes(seq2);
        assert_eq!(moved.len(), 1, "only /a changed");
        assert_eq!(moved[0].path, "/a");
        assert_eq!(moved[0].status, Some(200));
        assert!(moved[0].done);
        assert!(moved[0].total_ms.is_some());
        assert_eq!(capture.changes(seq3).0.len(), 0);
        drop(second);
    }

    #[test]
    fn bodies_keep_the_limit_and_count_everything() {
        let capture = enabled(8, 10);
        let exchange = begin(&capture, "/").unwrap();
        let tap = exchange.request_tap();
        tap.data(b"hello ");
        tap.data(b"world, and more");
        tap.data(b"!");
        exchange.responded(StatusCode::OK, &headers(&[("content-length", "12")]));
        exchange.response_chunk(b"0123456789ab");
        let id = exchange.id();
        drop(tap);
        drop(exchange);
        let detail = capture.detail(id).unwrap();
        assert_eq!(&detail.request_body.bytes[..], b"hello wo");
        assert!(detail.request_body.truncated);
        assert_eq!(detail.summary.request_bytes, 22);
        assert_eq!(&detail.response_body.bytes[..], b"01234567");
        assert!(detail.response_body.truncated);
        assert_eq!(detail.summary.response_bytes, 12);
        assert!(!detail.summary.streamed);
    }

    #[test]
    fn a_zero_limit_keeps_headers_only() {
        let capture = enabled(0, 10);
        let exchange = begin(&capture, "/").unwrap();
        exchange.request_tap().data(b"abc");
        exchange.responded(StatusCode::OK, &headers(&[("content-length", "3")]));
        exchange.response_chunk(b"xyz");
        let detail = capture.detail(exchange.id()).unwrap();
        assert!(detail.request_body.bytes.is_empty());
        assert!(detail.response_body.bytes.is_empty());
        assert_eq!(detail.summary.response_bytes, 3);
    }

    #[test]
    fn streamed_responses_keep_their_first_chunk_and_show_it_at_once() {
        let capture = enabled(1024, 10);
        let exchange = begin(&capture, "/events").unwrap();
        exchange.responded(
            StatusCode::OK,
            &headers(&[("content-type", "text/event-stream")]),
        );
        let (_, seq) = capture.changes(0);
        exchange.response_chunk(b"data: one\n\n");
        let (moved, _) = capture.changes(seq);
        assert_eq!(
            moved.len(),
            1,
            "the first chunk is reported while the stream runs"
        );
        assert!(moved[0].streamed && !moved[0].done);
        exchange.response_chunk(b"data: two\n\n");
        let detail = capture.detail(exchange.id()).unwrap();
        assert_eq!(&detail.response_body.bytes[..], b"data: one\n\n");
        assert!(detail.response_body.truncated);
        assert_eq!(detail.summary.response_bytes, 22);
    }

    #[test]
    fn chunked_and_upgraded_responses_are_streamed() {
        assert!(is_streamed_response(StatusCode::OK, &HeaderMap::new()));
        assert!(is_streamed_response(
            StatusCode::SWITCHING_PROTOCOLS,
            &headers(&[("content-length", "0")])
        ));
        assert!(!is_streamed_response(
            StatusCode::OK,
            &headers(&[("content-length", "5")])
        ));
        assert!(!is_streamed_response(
            StatusCode::NO_CONTENT,
            &HeaderMap::new()
        ));
    }

    #[test]
    fn secrets_are_masked_unless_shown() {
        let capture = enabled(16, 10);
        let request = headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "s=1"),
            ("accept", "*/*"),
        ]);
        let exchange = capture
            .begin(
                ExchangeKind::Http,
                "p",
                "GET",
                "/",
                &request,
                Instant::now(),
            )
            .unwrap();
        exchange.responded(StatusCode::OK, &headers(&[("set-cookie", "s=2")]));
        let detail = capture.detail(exchange.id()).unwrap();
        let value = |list: &[(String, String, bool)], name: &str| {
            list.iter()
                .find(|(n, _, _)| n == name)
                .map(|(_, v, m)| (v.clone(), *m))
                .unwrap()
        };
        assert_eq!(
            value(&detail.request_headers, "authorization"),
            (MASK.to_string(), true)
        );
        assert_eq!(
            value(&detail.request_headers, "cookie"),
            (MASK.to_string(), true)
        );
        assert_eq!(
            value(&detail.request_headers, "accept"),
            ("*/*".to_string(), false)
        );
        assert_eq!(
            value(&detail.response_headers, "set-cookie"),
            (MASK.to_string(), true)
        );

        let shown = Arc::new(Capture::default());
        shown
            .enable(CaptureSettings {
                show_secrets: true,
                ..CaptureSettings::default()
            })
            .unwrap();
        let exchange = shown
            .begin(
                ExchangeKind::Http,
                "p",
                "GET",
                "/",
                &request,
                Instant::now(),
            )
            .unwrap();
        let detail = shown.detail(exchange.id()).unwrap();
        assert_eq!(
            value(&detail.request_headers, "authorization"),
            ("Bearer abc".to_string(), false)
        );
    }

    #[test]
    fn settings_are_checked_and_fixed_once_set() {
        let capture = Capture::default();
        assert!(
            capture
                .enable(CaptureSettings {
                    capacity: 0,
                    ..CaptureSettings::default()
                })
                .is_err()
        );
        assert!(
            capture
                .enable(CaptureSettings {
                    body_limit: MAX_BODY_LIMIT + 1,
                    ..CaptureSettings::default()
                })
                .is_err()
        );
        capture.enable(CaptureSettings::default()).unwrap();
        capture.enable(CaptureSettings::default()).unwrap();
        assert!(
            capture
                .enable(CaptureSettings {
                    show_secrets: true,
                    ..CaptureSettings::default()
                })
                .is_err()
        );
    }

    fn captured(capture: &Arc<Capture>, request_headers: HeaderMap, body: &[u8]) -> Exchange {
        let exchange = capture
            .begin(
                ExchangeKind::Http,
                "p",
                "POST",
                "/submit?x=1",
                &request_headers,
                Instant::now(),
            )
            .unwrap();
        exchange.dialed(&DialTarget {
            host: "127.0.0.1".into(),
            port: 8080,
        });
        exchange.request_tap().data(body);
        exchange
    }

    #[test]
    fn a_replay_request_is_the_captured_one_with_secrets_restored() {
        let capture = enabled(64, 10);
        let exchange = captured(
            &capture,
            headers(&[
                ("host", "demo.example"),
                ("authorization", "Bearer abc"),
                ("content-length", "5"),
                ("connection", "close"),
            ]),
            b"hello",
        );
        let slot = capture.find(exchange.id()).unwrap();
        let (request, target) = replay_request(&slot.lock(), ReplayEdit::default()).unwrap();
        assert_eq!(target.authority(), "127.0.0.1:8080");
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "http://127.0.0.1:8080/submit?x=1");
        assert_eq!(request.headers()["host"], "demo.example");
        assert_eq!(request.headers()["authorization"], "Bearer abc");
        assert_eq!(request.headers()["content-length"], "5");
        assert!(!request.headers().contains_key("connection"));

        let edits = ReplayEdit {
            method: Some("PUT".into()),
            path: Some("/other".into()),
            headers: Some(vec![
                ("authorization".into(), MASK.into()),
                ("x-edit".into(), "1".into()),
            ]),
            body: Some(Bytes::from_static(b"changed!")),
        };
        let (request, _) = replay_request(&slot.lock(), edits).unwrap();
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(request.uri(), "http://127.0.0.1:8080/other");
        assert_eq!(
            request.headers()["authorization"],
            "Bearer abc",
            "the mask is restored"
        );
        assert_eq!(request.headers()["x-edit"], "1");
        assert_eq!(request.headers()["content-length"], "8");
        assert!(
            !request.headers().contains_key("host"),
            "headers were replaced"
        );
    }

    #[test]
    fn a_truncated_or_refused_request_is_not_replayed_as_it_was() {
        let capture = enabled(4, 10);
        let exchange = captured(&capture, HeaderMap::new(), b"longer than four");
        let slot = capture.find(exchange.id()).unwrap();
        let err = replay_request(&slot.lock(), ReplayEdit::default()).unwrap_err();
        assert!(err.contains("cut at 4 bytes"), "{err}");
        let edited = ReplayEdit {
            body: Some(Bytes::from_static(b"new")),
            ..ReplayEdit::default()
        };
        assert!(replay_request(&slot.lock(), edited).is_ok());

        let refused = begin(&capture, "/").unwrap();
        let slot = capture.find(refused.id()).unwrap();
        let err = replay_request(&slot.lock(), ReplayEdit::default()).unwrap_err();
        assert!(err.contains("never reached an origin"), "{err}");
        let bad_path = ReplayEdit {
            path: Some("http://elsewhere/".into()),
            body: Some(Bytes::new()),
            ..ReplayEdit::default()
        };
        let slot = capture.find(exchange.id()).unwrap();
        assert!(replay_request(&slot.lock(), bad_path).is_err());
    }

    #[tokio::test]
    async fn a_replay_reaches_the_origin_and_is_recorded_as_one() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.ends_with(b"ping") {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "the replay ended early: {seen:?}");
                seen.extend_from_slice(&buf[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\npong")
                .await
                .unwrap();
            String::from_utf8(seen).unwrap()
        });
        let capture = enabled(64, 10);
        let original = capture
            .begin(
                ExchangeKind::Http,
                "p",
                "POST",
                "/echo",
                &headers(&[("content-length", "4")]),
                Instant::now(),
            )
            .unwrap();
        original.dialed(&DialTarget {
            host: "127.0.0.1".into(),
            port,
        });
        original.request_tap().data(b"ping");
        let id = original.id();
        drop(original);
        let replayed = capture.replay(id, ReplayEdit::default()).await.unwrap();
        let seen = server.await.unwrap();
        assert!(seen.starts_with("POST /echo HTTP/1.1\r\n"), "{seen}");
        let detail = capture.detail(replayed).unwrap();
        assert_eq!(detail.summary.replay_of, Some(id));
        assert_eq!(detail.summary.peer, "replay");
        assert_eq!(detail.summary.status, Some(201));
        assert_eq!(&detail.response_body.bytes[..], b"pong");
        assert_eq!(&detail.request_body.bytes[..], b"ping");
        assert!(detail.summary.done);
    }

    #[tokio::test]
    async fn tapped_splice_halves_capture_the_first_chunk() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let capture = enabled(1024, 10);
        let exchange = capture
            .begin(
                ExchangeKind::WebSocket,
                "p",
                "GET",
                "/ws",
                &HeaderMap::new(),
                Instant::now(),
            )
            .unwrap();
        let (mut a, b) = tokio::io::duplex(64);
        let mut reader = Tapped::new(b, Some(exchange.response_tap()));
        a.write_all(b"first").await.unwrap();
        let mut buf = [0u8; 16];
        let n = reader.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"first");
        a.write_all(b"second").await.unwrap();
        let n = reader.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second");
        let mut sink = Tapped::new(Vec::new(), Some(exchange.request_tap()));
        sink.write_all(b"hi").await.unwrap();
        sink.write_all(b"there").await.unwrap();
        let detail = capture.detail(exchange.id()).unwrap();
        assert!(detail.summary.streamed);
        assert_eq!(&detail.response_body.bytes[..], b"first");
        assert_eq!(detail.summary.response_bytes, 11);
        assert_eq!(&detail.request_body.bytes[..], b"hi");
        assert_eq!(detail.summary.request_bytes, 7);
    }
}
