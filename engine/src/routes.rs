//! The gateway's route table: which agent serves a public hostname, where that agent can be
//! reached, and which local target it should be asked for.
//!
//! [`RouteTable::route`] picks the agent for a request and rewrites it the way Datum's
//! gateway does (absolute form, `Host: target`, the visitor's host in `X-Forwarded-Host`).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use http::{HeaderValue, Method, StatusCode, Uri, header};
use iroh::{EndpointAddr, EndpointId, RelayUrl, TransportAddr, address_lookup::MemoryLookup};
use iroh_proxy_utils::{Authority, HttpRequest, downstream::SrcAddr};

use crate::keys::parse_endpoint_id;

/// Header naming the agent for a raw CONNECT, as Datum's edge sends it.
pub const ENDPOINT_ID_HEADER: &str = "x-iroh-endpoint-id";

/// Headers the edge uses to talk to the gateway; never forwarded to agents.
const EDGE_HEADERS: [&str; 3] = [
    ENDPOINT_ID_HEADER,
    "x-datum-target-host",
    "x-datum-target-port",
];

/// One public hostname and the agent behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub hostname: String,
    pub endpoint_id: EndpointId,
    pub relay_url: Option<RelayUrl>,
    pub direct_addresses: Vec<std::net::SocketAddr>,
    pub target: Authority,
    pub online: bool,
}

impl Route {
    /// Checks and converts a route as JavaScript sends it.
    pub fn parse(
        hostname: &str,
        endpoint_id: &str,
        relay_url: Option<&str>,
        direct_addresses: &[String],
        target_host: &str,
        target_port: u32,
        online: bool,
    ) -> Result<Self, String> {
        let hostname = normalize_hostname(hostname);
        if hostname.is_empty() {
            return Err("a route needs a hostname".into());
        }
        let endpoint_id = parse_endpoint_id(endpoint_id)?;
        let relay_url = relay_url
            .filter(|u| !u.is_empty())
            .map(|u| {
                u.parse()
                    .map_err(|e| format!("not a valid relay URL {u:?}: {e}"))
            })
            .transpose()?;
        let direct_addresses = direct_addresses
            .iter()
            .map(|a| {
                a.parse()
                    .map_err(|e| format!("not a valid address {a:?}: {e}"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let port = u16::try_from(target_port)
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("target port {target_port} is out of range"))?;
        let host = target_host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("route {hostname} needs a target host"));
        }
        Ok(Self {
            hostname,
            endpoint_id,
            relay_url,
            direct_addresses,
            target: Authority::new(bracket_ipv6(host), port),
            online,
        })
    }

    fn endpoint_addr(&self) -> EndpointAddr {
        EndpointAddr::from_parts(
            self.endpoint_id,
            self.relay_url
                .iter()
                .cloned()
                .map(TransportAddr::Relay)
                .chain(self.direct_addresses.iter().copied().map(TransportAddr::Ip)),
        )
    }
}

fn bracket_ipv6(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Lowercase, without a port or a trailing dot.
fn normalize_hostname(host: &str) -> String {
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// The routes, shared between `Gateway.setRoutes` and the proxy's request handler.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Arc<RwLock<HashMap<String, Route>>>,
    lookup: MemoryLookup,
}

impl RouteTable {
    /// A table that publishes agent addresses into `lookup`, where the endpoint dials from.
    pub fn new(lookup: MemoryLookup) -> Self {
        Self {
            routes: Default::default(),
            lookup,
        }
    }

    /// Replaces every route and the addresses the gateway knows for each agent.
    pub fn replace(&self, routes: Vec<Route>) {
        let mut addrs: HashMap<EndpointId, EndpointAddr> = HashMap::new();
        for route in &routes {
            let addr = route.endpoint_addr();
            addrs
                .entry(route.endpoint_id)
                .and_modify(|known| *known = known.clone().with_addrs(addr.addrs.clone()))
                .or_insert(addr);
        }
        let mut table = self.routes.write().unwrap_or_else(|e| e.into_inner());
        for old in table.values() {
            if !addrs.contains_key(&old.endpoint_id) {
                self.lookup.remove_endpoint_info(old.endpoint_id);
            }
        }
        for addr in addrs.into_values() {
            self.lookup.set_endpoint_info(addr);
        }
        *table = routes
            .into_iter()
            .map(|route| (route.hostname.clone(), route))
            .collect();
    }

    fn get(&self, hostname: &str) -> Option<Route> {
        let table = self.routes.read().unwrap_or_else(|e| e.into_inner());
        table.get(&normalize_hostname(hostname)).cloned()
    }

    /// True when routes name `id` and every one of them is offline (an agent that serves
    /// at least one online tunnel is up).
    fn endpoint_offline(&self, id: EndpointId) -> bool {
        let table = self.routes.read().unwrap_or_else(|e| e.into_inner());
        let mut routes = table.values().filter(|r| r.endpoint_id == id).peekable();
        routes.peek().is_some() && routes.all(|r| !r.online)
    }
}

impl RouteTable {
    /// Picks the agent for `req` and rewrites it for that agent; on refusal, the status to
    /// answer with (400 malformed, 404 unknown host, 503 offline).
    pub fn route(
        &self,
        src_addr: SrcAddr,
        req: &mut HttpRequest,
    ) -> Result<EndpointId, StatusCode> {
        let named_endpoint = req
            .header_str(ENDPOINT_ID_HEADER)
            .map(|id| parse_endpoint_id(id).map_err(|_| StatusCode::BAD_REQUEST))
            .transpose()?;
        req.remove_headers(EDGE_HEADERS);

        if req.method == Method::CONNECT {
            if let Some(id) = named_endpoint {
                // The edge's form: the agent is named, the CONNECT target is passed as is.
                if self.endpoint_offline(id) {
                    return Err(StatusCode::SERVICE_UNAVAILABLE);
                }
                return Ok(id);
            }
            let host = req
                .uri
                .host()
                .map(str::to_string)
                .ok_or(StatusCode::BAD_REQUEST)?;
            let route = self.get(&host).ok_or(StatusCode::NOT_FOUND)?;
            if !route.online {
                return Err(StatusCode::SERVICE_UNAVAILABLE);
            }
            let target = route.target.to_string();
            req.uri = target
                .parse::<Uri>()
                .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            let host_value =
                HeaderValue::from_str(&target).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
            req.headers.insert(header::HOST, host_value);
            return Ok(route.endpoint_id);
        }

        let host = req
            .host()
            .map(str::to_string)
            .ok_or(StatusCode::BAD_REQUEST)?;
        let route = self.get(&host).ok_or(StatusCode::NOT_FOUND)?;
        if !route.online {
            return Err(StatusCode::SERVICE_UNAVAILABLE);
        }
        req.set_forwarded_for_if_tcp(src_addr)
            .set_absolute_http_authority(route.target.clone())
            .map_err(|_| StatusCode::BAD_REQUEST)?;
        Ok(route.endpoint_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> String {
        crate::keys::endpoint_id_hex(&iroh::SecretKey::from_bytes(&[1u8; 32]).public())
    }

    #[test]
    fn hostnames_ignore_case_port_and_trailing_dot() {
        assert_eq!(
            normalize_hostname("App.Example.com:8080"),
            "app.example.com"
        );
        assert_eq!(normalize_hostname("app.example.com."), "app.example.com");
        assert_eq!(normalize_hostname("[::1]:80"), "[::1]:80");
    }

    #[test]
    fn a_named_agent_is_offline_only_when_all_its_routes_are() {
        let table = RouteTable::new(MemoryLookup::new());
        let route = |host: &str, online| {
            Route::parse(host, &id(), None, &[], "localhost", 80, online).unwrap()
        };
        let agent = parse_endpoint_id(&id()).unwrap();
        assert!(!table.endpoint_offline(agent), "unknown agents are dialed");
        table.replace(vec![route("a.test", false), route("b.test", true)]);
        assert!(!table.endpoint_offline(agent));
        table.replace(vec![route("a.test", false)]);
        assert!(table.endpoint_offline(agent));
    }

    #[test]
    fn routes_parse_and_bracket_ipv6_targets() {
        let route = Route::parse(
            "A.test",
            &id(),
            None,
            &["127.0.0.1:4000".into()],
            "::1",
            8080,
            true,
        )
        .unwrap();
        assert_eq!(route.hostname, "a.test");
        assert_eq!(route.target.to_string(), "[::1]:8080");
        assert!(Route::parse("a.test", "nope", None, &[], "localhost", 80, true).is_err());
        assert!(Route::parse("a.test", &id(), None, &[], "localhost", 70000, true).is_err());
        assert!(Route::parse("a.test", &id(), None, &["x".into()], "localhost", 80, true).is_err());
    }
}
