//! The one policy for every request Castellan itself makes (OpenAPI import URLs, clients'
//! `jwks_uri`, and every later fetch): private, loopback, link-local, shared, multicast,
//! broadcast and unspecified addresses are refused unless `--outbound-allow` names them. The
//! check runs on the addresses a name resolves to, inside the HTTP client's resolver, so the
//! address checked is the address connected to (a name that resolves to a public address when
//! checked and to an internal one when connecting — DNS rebinding — cannot pass); literal
//! addresses in URLs, which the client does not resolve, are checked before each request and each
//! redirect.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;

/// The outbound policy: which otherwise refused addresses the operator allows.
#[derive(Debug, Clone, Default)]
pub struct Outbound {
    allow: Arc<Vec<IpNet>>,
}

/// Why an address is not public, or `None` when it is.
fn internal_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_kind(v4);
            }
            let seg = v6.segments();
            if v6.is_unspecified() {
                Some("unspecified")
            } else if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_multicast() {
                Some("multicast")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if seg[0] == 0x64 && seg[1] == 0xff9b {
                // NAT64 (RFC 6052): the embedded IPv4 address decides.
                let v4 = Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
                v4_kind(v4)
            } else {
                None
            }
        }
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    if ip.is_unspecified() || o[0] == 0 {
        Some("unspecified")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared (carrier-grade NAT)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() {
        Some("broadcast")
    } else {
        None
    }
}

impl Outbound {
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow: Arc::new(allow) }
    }

    /// `Ok` for a public address or one the operator allows; otherwise the refusal, naming the
    /// policy and how to change it.
    pub fn check(&self, ip: IpAddr) -> Result<(), String> {
        match internal_kind(ip) {
            Some(kind) if !self.allow.iter().any(|n| n.contains(&ip)) => Err(format!(
                "{ip} is a {kind} address, which the outbound policy refuses (allow it with --outbound-allow)"
            )),
            _ => Ok(()),
        }
    }

    /// Checks a URL whose host is a literal address (names are checked when resolved).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        let host = url.host_str().unwrap_or("");
        match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            Ok(ip) => self.check(ip),
            Err(_) => Ok(()),
        }
    }

    /// An HTTP client builder whose name resolution applies this policy.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder().dns_resolver(Arc::new(self.clone()))
    }
}

impl reqwest::dns::Resolve for Outbound {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.check(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refused.get_or_insert(why);
                        false
                    }
                })
                .collect();
            if kept.is_empty() {
                let why = refused.unwrap_or_else(|| "it has no address".into());
                return Err(format!("{host}: {why}").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let none = Outbound::default();
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            // NAT64 of 10.1.2.3 and of the broadcast address: the embedded address decides.
            "64:ff9b::a01:203",
            "64:ff9b::ffff:ffff",
        ] {
            let e = none.check(ip.parse().unwrap()).unwrap_err();
            assert!(e.contains("outbound policy"), "{ip}: {e}");
        }
        for ip in [
            "93.184.216.34",
            "1.1.1.1",
            "2606:4700::1111",
            "172.32.0.1",
            "100.128.0.1",
            // NAT64 of a public address, and a prefix that only looks like NAT64's.
            "64:ff9b::5db8:d822",
            "2001:ff9b::a9fe:a9fe",
        ] {
            assert_eq!(none.check(ip.parse().unwrap()), Ok(()), "{ip}");
        }
        let lo = Outbound::new(vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]);
        assert_eq!(lo.check("127.0.0.1".parse().unwrap()), Ok(()));
        assert_eq!(lo.check("::1".parse().unwrap()), Ok(()));
        assert!(lo.check("10.0.0.1".parse().unwrap()).is_err());
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        assert!(none.check_url(&url("http://127.0.0.1:8080/x")).is_err());
        assert!(none.check_url(&url("https://[::1]/x")).is_err());
        assert_eq!(none.check_url(&url("https://example.com/x")), Ok(()));
        assert_eq!(lo.check_url(&url("http://127.0.0.1:8080/x")), Ok(()));
    }

    #[tokio::test]
    async fn names_are_checked_on_the_addresses_they_resolve_to() {
        let none = Outbound::default();
        let http = none.client_builder().build().unwrap();
        // `localhost` resolves to loopback: refused at resolution, naming the policy.
        let e = http.get("http://localhost:9/").send().await.unwrap_err();
        let mut msg = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(c) = cur {
            msg.push_str(&format!(": {c}"));
            cur = c.source();
        }
        assert!(msg.contains("outbound policy"), "{msg}");
    }
}
