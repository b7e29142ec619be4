//! Fetching OpenAPI documents for `POST …/apis/import/url`: bounded in time and size, redirects
//! only to the same host (and never from https down to http), under the outbound policy.

use std::time::Duration;

use castellan_control::DocumentFetcher;

use crate::outbound::Outbound;

/// At most this many redirects, all on the URL's own host.
const MAX_REDIRECTS: usize = 3;

pub struct HttpDocumentFetcher {
    http: reqwest::Client,
    outbound: Outbound,
}

impl HttpDocumentFetcher {
    pub fn new(outbound: &Outbound) -> anyhow::Result<Self> {
        let checked = outbound.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let first = &attempt.previous()[0];
            let next = attempt.url();
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if next.host_str() != first.host_str()
                || next.port_or_known_default() != first.port_or_known_default()
            {
                let to = next.host_str().unwrap_or("").to_owned();
                attempt.error(format!("redirected to another host ({to}); give that URL instead"))
            } else if first.scheme() == "https" && next.scheme() != "https" {
                attempt.error("redirected from https to http")
            } else if let Err(why) = checked.check_url(next) {
                attempt.error(why)
            } else {
                attempt.follow()
            }
        });
        let http = outbound
            .client_builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .redirect(policy)
            .user_agent(concat!("castellan/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            outbound: outbound.clone(),
        })
    }
}

/// The error and its causes in one line (reqwest's own message omits the cause that matters).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let s = c.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

#[async_trait::async_trait]
impl DocumentFetcher for HttpDocumentFetcher {
    async fn fetch(&self, url: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
        let describe = |e: reqwest::Error| {
            if e.is_timeout() {
                "no answer within 5 seconds".to_owned()
            } else {
                chain(&e)
            }
        };
        let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
        self.outbound.check_url(&parsed)?;
        let mut resp = self.http.get(parsed).send().await.map_err(describe)?;
        if !resp.status().is_success() {
            return Err(format!("the server answered {}", resp.status()));
        }
        let too_large = || format!("the document is larger than {max_bytes} bytes");
        if resp.content_length().is_some_and(|n| n > max_bytes as u64) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(describe)? {
            body.extend_from_slice(&chunk);
            if body.len() > max_bytes {
                return Err(too_large());
            }
        }
        Ok(body)
    }
}
