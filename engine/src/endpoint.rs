//! Binding iroh endpoints for the agent and the gateway: relay choice, bind address, QUIC
//! transport settings and the address we report to the Connector.
//!
//! Neither side uses n0's discovery: the agent is found through the addresses the
//! heartbeat writes into its Connector, and the gateway is told where agents are.

use std::net::SocketAddr;

use iroh::{
    Endpoint, EndpointAddr, RelayMode, RelayUrl, SecretKey,
    address_lookup::MemoryLookup,
    endpoint::{PortmapperConfig, QuicTransportConfig, VarInt, presets},
};

/// Datum's relays, used when the caller does not choose others.
pub const DATUM_RELAYS: [&str; 2] = [
    "https://iroh-relay.us-east-1.datumconnect.net",
    "https://iroh-relay.us-west-1.datumconnect.net",
];

/// How an endpoint reaches relays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayChoice {
    /// Datum's relays ([`DATUM_RELAYS`]).
    Datum,
    /// The given relays.
    Custom(Vec<RelayUrl>),
    /// No relays: direct addresses only (loopback tests, LAN).
    Disabled,
}

impl RelayChoice {
    /// Reads the relay settings as JavaScript passes them: a mode name and optional URLs.
    pub fn parse(mode: Option<&str>, urls: Option<&[String]>) -> Result<Self, String> {
        match mode.unwrap_or("datum") {
            "datum" | "default" => Ok(Self::Datum),
            "disabled" => Ok(Self::Disabled),
            "custom" => {
                let urls = urls.unwrap_or_default();
                if urls.is_empty() {
                    return Err("relay mode \"custom\" needs at least one relay URL".into());
                }
                urls.iter()
                    .map(|u| parse_relay_url(u))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Self::Custom)
            }
            other => Err(format!(
                "unknown relay mode {other:?} (expected datum, custom or disabled)"
            )),
        }
    }

    fn relay_mode(&self) -> RelayMode {
        match self {
            Self::Datum => RelayMode::custom(
                DATUM_RELAYS
                    .iter()
                    .map(|u| parse_relay_url(u).expect("built-in relay URLs parse")),
            ),
            Self::Custom(urls) => RelayMode::custom(urls.iter().cloned()),
            Self::Disabled => RelayMode::Disabled,
        }
    }
}

fn parse_relay_url(url: &str) -> Result<RelayUrl, String> {
    url.parse()
        .map_err(|e| format!("not a valid relay URL {url:?}: {e}"))
}

/// Everything needed to bind one endpoint.
pub struct EndpointSettings {
    pub secret_key: SecretKey,
    pub relays: RelayChoice,
    pub bind_addr: Option<SocketAddr>,
    /// Without `bind_addr`: all interfaces on this UDP port ([`crate::stable_port`]).
    pub port: Option<u16>,
    pub alpns: Vec<Vec<u8>>,
    /// Where the endpoint looks up peers it dials (the gateway's route table).
    pub lookup: Option<MemoryLookup>,
}

/// Parses an optional `ip:port` bind address.
pub fn parse_bind_addr(text: Option<&str>) -> Result<Option<SocketAddr>, String> {
    text.map(|t| {
        t.parse()
            .map_err(|e| format!("not a valid bind address {t:?} (want ip:port): {e}"))
    })
    .transpose()
}

/// Binds an endpoint with the given settings.
pub async fn bind(settings: EndpointSettings) -> Result<Endpoint, String> {
    let relays_disabled = settings.relays == RelayChoice::Disabled;
    let mut builder = Endpoint::builder(presets::Minimal)
        .secret_key(settings.secret_key)
        .relay_mode(settings.relays.relay_mode())
        .alpns(settings.alpns)
        .transport_config(transport_config());
    if relays_disabled {
        // Without relays we are on a LAN or loopback: probing the router for port maps
        // would only add traffic outside the machine.
        builder = builder.portmapper_config(PortmapperConfig::Disabled);
    }
    if let Some(addr) = settings.bind_addr {
        builder = builder
            .clear_ip_transports()
            .bind_addr(addr)
            .map_err(|e| format!("cannot bind {addr}: {e}"))?;
    } else if let Some(port) = settings.port {
        builder = crate::stable_port::bind_all_interfaces(builder, port)?;
    }
    if let Some(lookup) = settings.lookup {
        builder = builder.address_lookup(lookup);
    }
    builder
        .bind()
        .await
        .map_err(|e| format!("cannot start the iroh endpoint: {e}"))
}

fn transport_config() -> QuicTransportConfig {
    QuicTransportConfig::builder()
        // One stream per proxied request: a busy site needs far more than the default 100.
        .max_concurrent_bidi_streams(VarInt::from_u32(4096))
        .build()
}

/// An endpoint's reachable address split the way the Connector stores it.
pub struct AddressParts {
    pub home_relay: Option<String>,
    pub direct_addresses: Vec<String>,
}

/// Splits an [`EndpointAddr`] into its relay URL and its direct addresses.
pub fn address_parts(addr: &EndpointAddr) -> AddressParts {
    let mut direct_addresses: Vec<String> = addr.ip_addrs().map(|a| a.to_string()).collect();
    direct_addresses.sort();
    AddressParts {
        home_relay: addr.relay_urls().next().map(|u| u.to_string()),
        direct_addresses,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_choice_parses_modes() {
        assert_eq!(RelayChoice::parse(None, None).unwrap(), RelayChoice::Datum);
        assert_eq!(
            RelayChoice::parse(Some("disabled"), None).unwrap(),
            RelayChoice::Disabled
        );
        let custom = RelayChoice::parse(
            Some("custom"),
            Some(&["https://relay.example.com".to_string()]),
        )
        .unwrap();
        assert!(matches!(custom, RelayChoice::Custom(ref u) if u.len() == 1));
        assert!(RelayChoice::parse(Some("custom"), Some(&[])).is_err());
        assert!(RelayChoice::parse(Some("n0"), None).is_err());
        // The built-in list must parse, or every default agent would panic.
        let _ = RelayChoice::Datum.relay_mode();
    }

    #[test]
    fn bind_addr_parses() {
        assert_eq!(parse_bind_addr(None).unwrap(), None);
        assert!(parse_bind_addr(Some("127.0.0.1:0")).unwrap().is_some());
        assert!(parse_bind_addr(Some("localhost")).is_err());
    }
}
