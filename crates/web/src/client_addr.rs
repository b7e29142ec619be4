//! The address a request comes from, for throttling. Behind a load balancer the TCP peer is the
//! balancer; its `X-Forwarded-For` / `Forwarded` (RFC 7239) headers are believed only when the
//! peer is one of the configured trusted proxies (`--trusted-proxies`), and then the address taken
//! is the last one in the chain that is not itself a trusted proxy, so a client cannot choose its
//! own address by sending the header itself.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::AppState;

/// The caller's address: the TCP peer, or behind trusted proxies the forwarded one. `None` when
/// the server runs without connection information (in-process tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip());
        Ok(ClientAddr(
            peer.map(|p| client_addr(p, &parts.headers, &state.trusted_proxies)),
        ))
    }
}

/// The caller's address of `req` (as [`ClientAddr`] extracts it), for middleware.
pub(crate) fn address_of(req: &axum::extract::Request, state: &AppState) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| client_addr(a.ip(), req.headers(), &state.trusted_proxies))
}

/// The TLS client certificate of the request (RFC 8705): the one a trusted proxy forwarded in
/// the configured header when the peer is a trusted proxy (and none if it forwarded none: the
/// proxy's own certificate is not the client's), otherwise the one the server's own TLS listener
/// received. A header from any other peer is ignored.
#[derive(Debug, Clone, Default)]
pub struct PeerCertificate(pub Option<castellan_oauth::mtls::ClientCertificate>);

impl FromRequestParts<AppState> for PeerCertificate {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(name) = &state.client_cert_header
            && let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>()
            && trusted(peer.ip(), &state.trusted_proxies)
        {
            let forwarded = parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty());
            let cert = forwarded.and_then(castellan_oauth::mtls::ClientCertificate::from_header);
            if forwarded.is_some() && cert.is_none() {
                tracing::warn!(header = %name, "the proxy's client certificate header could not be read");
            }
            return Ok(PeerCertificate(cert));
        }
        // Put there by the server's TLS acceptor for every request of the connection.
        Ok(parts.extensions.get::<PeerCertificate>().cloned().unwrap_or_default())
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    let ip = canonical(ip);
    proxies.iter().any(|n| n.contains(&ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as dual-stack sockets report them) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The forwarded chain, nearest hop last: `Forwarded` `for=` elements if present, else
/// `X-Forwarded-For`. Entries that are not addresses (obfuscated identifiers, `unknown`) end
/// the chain there.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("for").then(|| parse_node(v.trim()))
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().parse::<IpAddr>().ok())
        .collect()
}

/// An RFC 7239 §6 node: `192.0.2.1`, `"192.0.2.1:443"`, `"[2001:db8::1]:443"`.
fn parse_node(v: &str) -> Option<IpAddr> {
    let v = v.trim_matches('"');
    if let Some(rest) = v.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    v.parse()
        .ok()
        .or_else(|| v.rsplit_once(':').and_then(|(ip, _)| ip.parse().ok()))
}

pub(crate) fn client_addr(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return canonical(peer);
    }
    let mut addr = canonical(peer);
    for hop in forwarded_chain(headers).into_iter().rev() {
        match hop {
            Some(ip) => {
                addr = canonical(ip);
                if !trusted(ip, proxies) {
                    break;
                }
            }
            None => break,
        }
    }
    addr
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }
    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }
    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn headers_from_untrusted_peers_are_ignored() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(
            client_addr(ip("198.51.100.1"), &h, &nets(&["10.0.0.0/8"])),
            ip("198.51.100.1")
        );
        assert_eq!(client_addr(ip("198.51.100.1"), &h, &[]), ip("198.51.100.1"));
    }

    #[test]
    fn a_trusted_proxy_passes_the_client_address() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7")]);
        assert_eq!(
            client_addr(ip("10.1.2.3"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.7")
        );
        // Dual-stack sockets report IPv4 peers as IPv4-mapped IPv6.
        assert_eq!(
            client_addr(ip("::ffff:10.1.2.3"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn a_forged_first_hop_does_not_win() {
        // The client sent its own X-Forwarded-For: 1.2.3.4; the proxy appended the real address.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.7")
        );
        // Two trusted proxies in a row are skipped.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.0.0.9")]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), &h, &nets(&["10.0.0.0/8"])),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn rfc7239_forwarded_is_read_and_preferred() {
        let h = headers(&[
            (
                "forwarded",
                "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\"",
            ),
            ("x-forwarded-for", "198.51.100.9"),
        ]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), &h, &nets(&["10.0.0.0/8"])),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=\"192.0.2.60:8080\"")]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), &h, &nets(&["10.0.0.0/8"])),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn garbage_stops_at_the_proxy() {
        let h = headers(&[("x-forwarded-for", "not-an-address")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &nets(&["10.0.0.0/8"])), ip("10.0.0.1"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(client_addr(ip("10.0.0.1"), &h, &nets(&["10.0.0.0/8"])), ip("10.0.0.1"));
    }
}
