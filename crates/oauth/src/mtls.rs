//! Mutual-TLS client authentication and certificate-bound tokens (RFC 8705).
//!
//! The certificate a client presented reaches the engine as a [`ClientCertificate`]: from
//! Castellan's own TLS listener (which asks for one but does not require it and proves only that
//! the client holds its key) or from a header a trusted TLS-terminating proxy sets. What the
//! certificate is worth is decided here:
//! - `tls_client_auth` (§2.1): the chain must lead to a certificate authority the operator
//!   trusts (`--tls-client-ca`) for client authentication, and the certificate must carry the
//!   client's registered subject DN or subject alternative name;
//! - `self_signed_tls_client_auth` (§2.2): the certificate's public key must be one of the
//!   client's registered keys (`jwks` or `jwks_uri`); no authority is involved;
//! - a client with `tls_client_certificate_bound_access_tokens` (§3) gets tokens carrying
//!   `cnf: {"x5t#S256": …}`, the SHA-256 of the certificate, and a resource accepts such a token
//!   only from a caller presenting that same certificate.

use std::net::IpAddr;
use std::sync::Arc;

use castellan_jose::{b64url, sha256};
use castellan_types::Jwk;
use x509_parser::prelude::*;

/// The largest certificate header accepted (bytes, as sent).
pub const MAX_CERT_HEADER: usize = 16 * 1024;

/// The certificate chain a client presented, leaf first (DER), and its `x5t#S256`.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    chain: Arc<[Vec<u8>]>,
    thumbprint: String,
}

impl ClientCertificate {
    /// A presented chain (leaf first); `None` when the leaf is not an X.509 certificate.
    pub fn from_chain(chain: Vec<Vec<u8>>) -> Option<Self> {
        let leaf = chain.first()?;
        X509Certificate::from_der(leaf)
            .ok()
            .filter(|(rest, _)| rest.is_empty())?;
        let thumbprint = b64url(&sha256(leaf));
        Some(Self {
            chain: chain.into(),
            thumbprint,
        })
    }

    /// The certificate a TLS-terminating proxy forwarded in a header: RFC 9440 `Client-Cert`
    /// (`:base64 DER:`), nginx's `$ssl_client_escaped_cert` (URL-encoded PEM), PEM, or base64 DER
    /// (Caddy's `certificate_der_base64`). `None` for anything else.
    pub fn from_header(value: &str) -> Option<Self> {
        use base64::Engine as _;
        if value.len() > MAX_CERT_HEADER {
            return None;
        }
        let value = value.trim();
        let decoded;
        let text = if value.contains('%') {
            decoded = percent_encoding::percent_decode_str(value).decode_utf8().ok()?;
            decoded.as_ref()
        } else {
            value
        };
        let b64: String = if let Some(start) = text.find("-----BEGIN CERTIFICATE-----") {
            let body = &text[start + "-----BEGIN CERTIFICATE-----".len()..];
            let end = body.find("-----END CERTIFICATE-----")?;
            body[..end].chars().filter(|c| !c.is_whitespace()).collect()
        } else {
            text.trim_matches(':').to_owned()
        };
        let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        Self::from_chain(vec![der])
    }

    /// `x5t#S256`: the base64url SHA-256 of the leaf certificate (RFC 8705 §3.1).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The leaf, parsed (it parsed when this was made, so `None` does not happen).
    fn leaf(&self) -> Option<X509Certificate<'_>> {
        X509Certificate::from_der(&self.chain[0]).ok().map(|(_, c)| c)
    }

    /// Whether the leaf carries the identity a `tls_client_auth` client registered.
    pub(crate) fn has_name(&self, names: &castellan_domain::TlsClientAuthNames) -> bool {
        let Some(cert) = self.leaf() else {
            return false;
        };
        if let Some(dn) = &names.subject_dn {
            return parse_dn(dn).is_some_and(|want| subject_rdns(cert.subject()) == Some(want));
        }
        let sans: Vec<GeneralName<'_>> = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext.value.general_names.clone(),
            _ => return false,
        };
        sans.iter().any(|g| match g {
            GeneralName::DNSName(d) => names.san_dns.as_deref().is_some_and(|w| w.eq_ignore_ascii_case(d)),
            GeneralName::URI(u) => names.san_uri.as_deref() == Some(*u),
            GeneralName::RFC822Name(e) => names.san_email.as_deref().is_some_and(|w| same_email(w, e)),
            GeneralName::IPAddress(bytes) => names
                .san_ip
                .as_deref()
                .and_then(|w| w.parse::<IpAddr>().ok())
                .is_some_and(|w| ip_bytes(w) == *bytes),
            _ => false,
        })
    }

    /// The leaf's public key as a JWK (RSA, or EC on P-256, P-384, P-521).
    pub(crate) fn public_jwk(&self) -> Option<Jwk> {
        let cert = self.leaf()?;
        let spki = cert.public_key();
        let blank = Jwk {
            kty: String::new(),
            kid: None,
            use_: None,
            alg: None,
            n: None,
            e: None,
            crv: None,
            x: None,
            y: None,
            d: None,
            p: None,
            q: None,
            dp: None,
            dq: None,
            qi: None,
        };
        match spki.parsed().ok()? {
            x509_parser::public_key::PublicKey::RSA(rsa) => {
                let strip = |b: &[u8]| {
                    let i = b.iter().position(|x| *x != 0).unwrap_or(b.len());
                    b64url(&b[i..])
                };
                Some(Jwk {
                    kty: "RSA".into(),
                    n: Some(strip(rsa.modulus)),
                    e: Some(strip(rsa.exponent)),
                    ..blank
                })
            }
            x509_parser::public_key::PublicKey::EC(point) => {
                let curve = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
                let (crv, len) = if curve == x509_parser::oid_registry::OID_EC_P256 {
                    ("P-256", 32)
                } else if curve == x509_parser::oid_registry::OID_NIST_EC_P384 {
                    ("P-384", 48)
                } else if curve == x509_parser::oid_registry::OID_NIST_EC_P521 {
                    ("P-521", 66)
                } else {
                    return None;
                };
                let data = point.data();
                if data.len() != 1 + 2 * len || data[0] != 4 {
                    return None; // only uncompressed points
                }
                Some(Jwk {
                    kty: "EC".into(),
                    crv: Some(crv.into()),
                    x: Some(b64url(&data[1..1 + len])),
                    y: Some(b64url(&data[1 + len..])),
                    ..blank
                })
            }
            _ => None,
        }
    }
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// Email addresses: the local part exactly, the domain in any case.
fn same_email(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((la, da)), Some((lb, db))) => la == lb && da.eq_ignore_ascii_case(db),
        _ => a == b,
    }
}

/// One relative distinguished name: its attributes (type in lower case, value), sorted.
type Rdn = Vec<(String, String)>;

/// Attribute types by OID, with the name RFC 4514 (and OpenSSL) writes and other spellings.
const ATTRIBUTE_TYPES: [(&str, &str, &[&str]); 14] = [
    ("2.5.4.3", "cn", &["commonname"]),
    ("2.5.4.4", "sn", &["surname"]),
    ("2.5.4.5", "serialnumber", &[]),
    ("2.5.4.6", "c", &["countryname"]),
    ("2.5.4.7", "l", &["localityname"]),
    ("2.5.4.8", "st", &["s", "stateorprovincename"]),
    ("2.5.4.9", "street", &["streetaddress"]),
    ("2.5.4.10", "o", &["organizationname"]),
    ("2.5.4.11", "ou", &["organizationalunitname"]),
    ("2.5.4.12", "title", &[]),
    ("2.5.4.42", "givenname", &["gn"]),
    ("0.9.2342.19200300.100.1.1", "uid", &["userid"]),
    ("0.9.2342.19200300.100.1.25", "dc", &["domaincomponent"]),
    ("1.2.840.113549.1.9.1", "emailaddress", &["e", "email"]),
];

/// An attribute type written in a DN string, as the name it is compared by: the short name of
/// a known type (by any spelling or its OID), else the text in lower case.
fn attribute_type(t: &str) -> String {
    let t = t.trim().to_ascii_lowercase();
    ATTRIBUTE_TYPES
        .iter()
        .find(|(oid, short, other)| *oid == t || *short == t || other.contains(&t.as_str()))
        .map_or(t, |(_, short, _)| (*short).to_owned())
}

/// A distinguished name in RFC 4514 string form (`CN=shop,O=Example Corp,C=DE`; escapes with a
/// backslash, `+` joining attributes of one RDN), most specific RDN first as RFC 4514 writes it.
/// `None` when it cannot be read (including `#`-prefixed BER values, which are not accepted).
pub fn parse_dn(s: &str) -> Option<Vec<Rdn>> {
    let mut rdns = Vec::new();
    let mut rdn: Rdn = Vec::new();
    let mut typ = String::new();
    let mut val: Vec<u8> = Vec::new();
    let mut in_value = false;
    let mut chars = s.chars().peekable();
    let finish = |typ: &mut String, val: &mut Vec<u8>, rdn: &mut Rdn| -> Option<()> {
        let t = attribute_type(typ);
        let v = String::from_utf8(std::mem::take(val)).ok()?;
        let v = v.trim().to_owned();
        if t.is_empty() || v.starts_with('#') || !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            return None;
        }
        rdn.push((t, v));
        typ.clear();
        Some(())
    };
    while let Some(c) = chars.next() {
        if !in_value {
            match c {
                '=' => in_value = true,
                ',' | '+' => return None,
                _ => typ.push(c),
            }
            continue;
        }
        match c {
            '\\' => {
                let a = chars.next()?;
                if a.is_ascii_hexdigit() {
                    let b = chars.next()?;
                    let byte = u8::from_str_radix(&format!("{a}{b}"), 16).ok()?;
                    val.push(byte);
                } else {
                    let mut buf = [0u8; 4];
                    val.extend_from_slice(a.encode_utf8(&mut buf).as_bytes());
                }
            }
            '+' => {
                finish(&mut typ, &mut val, &mut rdn)?;
                in_value = false;
            }
            ',' | ';' => {
                finish(&mut typ, &mut val, &mut rdn)?;
                in_value = false;
                rdn.sort();
                rdns.push(std::mem::take(&mut rdn));
            }
            _ => {
                let mut buf = [0u8; 4];
                val.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    if !in_value {
        return None;
    }
    finish(&mut typ, &mut val, &mut rdn)?;
    rdn.sort();
    rdns.push(rdn);
    Some(rdns)
}

/// The certificate subject's RDNs most specific first (the order of RFC 4514 strings); `None`
/// when an attribute value is not a string.
fn subject_rdns(name: &X509Name<'_>) -> Option<Vec<Rdn>> {
    let mut out = Vec::new();
    for rdn in name.iter() {
        let mut attrs: Rdn = Vec::new();
        for a in rdn.iter() {
            let t = attribute_type(&a.attr_type().to_id_string());
            attrs.push((t, a.as_str().ok()?.trim().to_owned()));
        }
        attrs.sort();
        out.push(attrs);
    }
    out.reverse();
    Some(out)
}

/// How this node receives client certificates, set once at start.
#[derive(Default)]
pub struct ClientCertificates {
    /// Certificates reach the engine: the server's own TLS listener, or a trusted proxy's header.
    pub received: bool,
    /// The authorities `tls_client_auth` chains must lead to.
    pub authority: Option<ClientCa>,
    /// Where the endpoints are served with mutual TLS when that is another host than the public
    /// URL (`--mtls-url`): discovery lists them as `mtls_endpoint_aliases` (RFC 8705 §5).
    pub alias: Option<String>,
}

/// The certificate authorities `tls_client_auth` chains must lead to (`--tls-client-ca`).
pub struct ClientCa {
    anchors: Vec<rustls_pki_types::TrustAnchor<'static>>,
    /// Every certificate of the file, also offered as intermediates: a proxy forwards only the
    /// leaf, so an intermediate authority in the file completes the chain.
    certs: Vec<rustls_pki_types::CertificateDer<'static>>,
}

impl ClientCa {
    /// From DER certificates; an error names the first that is not a usable authority.
    pub fn new(certs: Vec<Vec<u8>>) -> Result<Self, String> {
        if certs.is_empty() {
            return Err("no certificate".into());
        }
        let certs: Vec<rustls_pki_types::CertificateDer<'static>> = certs.into_iter().map(Into::into).collect();
        let anchors = certs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                webpki::anchor_from_trusted_cert(c)
                    .map(|a| a.to_owned())
                    .map_err(|e| format!("certificate {}: {e:?}", i + 1))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { anchors, certs })
    }

    /// Whether `cert`'s chain leads to one of the authorities at `now`, for client authentication.
    pub(crate) fn verifies(&self, cert: &ClientCertificate, now: i64) -> Result<(), String> {
        let leaf = rustls_pki_types::CertificateDer::from(cert.chain[0].as_slice());
        let ee = webpki::EndEntityCert::try_from(&leaf).map_err(|e| format!("{e:?}"))?;
        let mut intermediates: Vec<rustls_pki_types::CertificateDer<'_>> = cert.chain[1..]
            .iter()
            .map(|c| rustls_pki_types::CertificateDer::from(c.as_slice()))
            .collect();
        intermediates.extend(self.certs.iter().cloned());
        let time = rustls_pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64));
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &self.anchors,
            &intermediates,
            time,
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rdn(pairs: &[(&str, &str)]) -> Rdn {
        let mut v: Rdn = pairs.iter().map(|(t, v)| (t.to_string(), v.to_string())).collect();
        v.sort();
        v
    }

    #[test]
    fn distinguished_names_are_read_as_rfc_4514_writes_them() {
        assert_eq!(
            parse_dn("CN=shop, O=Example\\, Inc.,C=DE").unwrap(),
            vec![
                rdn(&[("cn", "shop")]),
                rdn(&[("o", "Example, Inc.")]),
                rdn(&[("c", "DE")])
            ]
        );
        assert_eq!(
            parse_dn("cn=a+UID=7,o=x").unwrap(),
            vec![rdn(&[("cn", "a"), ("uid", "7")]), rdn(&[("o", "x")])]
        );
        assert_eq!(parse_dn("CN=caf\\C3\\A9").unwrap(), vec![rdn(&[("cn", "café")])]);
        assert_eq!(parse_dn("emailAddress=a@b").unwrap(), parse_dn("E=a@b").unwrap());
        for bad in ["", "CN", "CN=a,", "=a", "CN=#0403", "C N=a", "CN=a\\"] {
            assert!(parse_dn(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn header_forms_all_read_the_same_certificate() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["client.example".into()]).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example, Inc.");
        params.distinguished_name.push(rcgen::DnType::CommonName, "shop");
        let cert = params.self_signed(&key).unwrap();
        let der = cert.der().to_vec();
        let pem = cert.pem();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let escaped: String =
            percent_encoding::utf8_percent_encode(&pem, percent_encoding::NON_ALPHANUMERIC).to_string();
        let want = b64url(&sha256(&der));
        for v in [format!(":{b64}:"), b64.clone(), pem.replace('\n', " "), escaped] {
            assert_eq!(ClientCertificate::from_header(&v).unwrap().thumbprint(), want, "{v}");
        }
        for bad in ["", ":", "bm90IGEgY2VydA==", "-----BEGIN CERTIFICATE-----abc"] {
            assert!(ClientCertificate::from_header(bad).is_none(), "{bad}");
        }
        assert!(ClientCertificate::from_header(&"A".repeat(MAX_CERT_HEADER + 1)).is_none());
        let c = ClientCertificate::from_header(&b64).unwrap();
        let names = |f: fn(&mut castellan_domain::TlsClientAuthNames)| {
            let mut n = castellan_domain::TlsClientAuthNames::default();
            f(&mut n);
            c.has_name(&n)
        };
        assert!(names(|n| n.san_dns = Some("CLIENT.example".into())));
        assert!(!names(|n| n.san_dns = Some("other.example".into())));
        assert!(!names(|n| n.san_uri = Some("client.example".into())));
        assert!(names(|n| n.subject_dn = Some("CN=shop,O=Example\\, Inc.".into())));
        assert!(names(|n| n.subject_dn = Some("cn=shop, o=Example\\2C Inc.".into())));
        // RFC 4514 order only (most specific first), and every RDN.
        assert!(!names(|n| n.subject_dn = Some("O=Example\\, Inc.,CN=shop".into())));
        assert!(!names(|n| n.subject_dn = Some("CN=shop".into())));
        assert!(!names(|n| n.subject_dn = Some("CN=shop,O=Example\\, Inc.,C=DE".into())));
        let jwk = c.public_jwk().unwrap();
        assert_eq!(jwk.kty, "EC");
        assert_eq!(jwk.crv.as_deref(), Some("P-256"));
    }
}
