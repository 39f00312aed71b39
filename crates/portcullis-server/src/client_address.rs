//! The address a request comes from, for sign-in throttling. Behind a load
//! balancer or TLS proxy every connection comes from the proxy, so when the
//! peer is one of the `trusted_proxies`, the address is taken from
//! `X-Forwarded-For`: the right-most entry that is not itself a trusted
//! proxy. An untrusted peer's `X-Forwarded-For` is ignored, so it cannot
//! pose as someone else.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client address of a request from `peer` with `headers`.
pub(crate) fn client_address(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut address = peer.ip();
    if !is_trusted(&address) {
        return address;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            // A malformed entry ends what can be trusted.
            return address;
        };
        address = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    address
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: SocketAddr = "10.1.2.3:5000".parse().unwrap();
        let stranger: SocketAddr = "198.51.100.7:5000".parse().unwrap();
        let addr = |peer, xff: &[&str]| client_address(peer, &headers(xff), &trusted).to_string();
        assert_eq!(addr(proxy, &["203.0.113.9"]), "203.0.113.9");
        // The client may send its own header; only the proxy's last append counts.
        assert_eq!(addr(proxy, &["1.2.3.4, 203.0.113.9"]), "203.0.113.9");
        assert_eq!(
            addr(proxy, &["1.2.3.4", "203.0.113.9, 10.9.9.9"]),
            "203.0.113.9"
        );
        assert_eq!(addr(proxy, &[]), "10.1.2.3");
        assert_eq!(addr(proxy, &["not-an-ip"]), "10.1.2.3");
        assert_eq!(addr(stranger, &["203.0.113.9"]), "198.51.100.7");
        assert_eq!(
            client_address(proxy, &headers(&["203.0.113.9"]), &[]).to_string(),
            "10.1.2.3"
        );
    }
}
