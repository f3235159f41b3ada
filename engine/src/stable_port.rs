//! Binding an agent on a given UDP port on all interfaces, so a restarted agent can keep the
//! port its previous run published: Datum's edge caches the agent's address (iroh DNS, 30 s
//! TTL), and a cached answer naming the same port stays valid across a restart.

use iroh::endpoint::{BindOpts, Builder};

/// Replaces the builder's IP sockets with IPv4 and IPv6 on all interfaces at `port`, the way
/// iroh binds them by default at random ports: IPv4 must bind (a taken port fails the bind, so
/// the caller can fall back), IPv6 is skipped where it cannot.
pub fn bind_all_interfaces(builder: Builder, port: u16) -> Result<Builder, String> {
    let invalid = |e| format!("cannot bind port {port}: {e}");
    builder
        .clear_ip_transports()
        .bind_addr_with_opts((std::net::Ipv4Addr::UNSPECIFIED, port), BindOpts::default())
        .map_err(invalid)?
        .bind_addr_with_opts(
            (std::net::Ipv6Addr::UNSPECIFIED, port),
            BindOpts::default().set_is_required(false),
        )
        .map_err(invalid)
}

/// Reads a port as JavaScript passes it: absent or 0 means "any".
pub fn parse_port(port: Option<u32>) -> Result<Option<u16>, String> {
    match port {
        None | Some(0) => Ok(None),
        Some(p) => u16::try_from(p)
            .map(Some)
            .map_err(|_| format!("port {p} is out of range")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse() {
        assert_eq!(parse_port(None).unwrap(), None);
        assert_eq!(parse_port(Some(0)).unwrap(), None);
        assert_eq!(parse_port(Some(41641)).unwrap(), Some(41641));
        assert!(parse_port(Some(70000)).is_err());
    }
}
