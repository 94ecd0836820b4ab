//! Which hosts a recording file may be downloaded from. A download URL comes
//! from a webhook body or a step's input, so it is checked before anything
//! is fetched, and so is every redirect: only https to a host the list
//! allows (Zoom's own domains by default), plain http only to a host whose
//! entry says `http://` (a simulator on loopback). The client also allows
//! the host of the API it is configured with, which it already trusts with
//! its OAuth token. A URL refused here is never requested, so no credential
//! reaches its host.

use reqwest::Url;

/// Zoom's domains: its web and API hosts, and its file CDN (`ssrweb.zoom.us`).
pub const ZOOM_DOWNLOAD_HOSTS: &str = "zoom.us,*.zoom.us,zoomgov.com,*.zoomgov.com";

/// The hosts downloads may reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadHosts(Vec<HostPattern>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPattern {
    /// Lowercase; for a wildcard entry, the part after `*.`.
    host: String,
    /// `*.example.com`: any subdomain, not the domain itself.
    subdomains: bool,
    /// Written `http://host`: plain http is allowed too.
    http: bool,
}

impl Default for DownloadHosts {
    fn default() -> DownloadHosts {
        DownloadHosts::parse(ZOOM_DOWNLOAD_HOSTS).expect("Zoom's own list parses")
    }
}

impl DownloadHosts {
    /// A comma-separated list such as `*.zoom.us,http://127.0.0.1`: host
    /// names, `*.` for every subdomain of one, `http://` to allow plain
    /// http to that host. Errors name the entry.
    pub fn parse(text: &str) -> Result<DownloadHosts, String> {
        let mut patterns = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (http, rest) = match entry.strip_prefix("http://") {
                Some(rest) => (true, rest),
                None => (false, entry.strip_prefix("https://").unwrap_or(entry)),
            };
            let (subdomains, host) = match rest.strip_prefix("*.") {
                Some(host) => (true, host),
                None => (false, rest),
            };
            let valid = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
                && !host.contains('*');
            if !valid {
                return Err(format!(
                    "download host {entry:?} is not a host name, *.domain or http://host"
                ));
            }
            patterns.push(HostPattern {
                host: host.to_ascii_lowercase(),
                subdomains,
                http,
            });
        }
        if patterns.is_empty() {
            return Err("the download host list is empty: no recording could be fetched".into());
        }
        Ok(DownloadHosts(patterns))
    }

    /// This list and the host of `url`, with plain http if `url` is http.
    pub fn with_host_of(mut self, url: &Url) -> DownloadHosts {
        if let Some(host) = url.host_str() {
            self.0.push(HostPattern {
                host: host.to_ascii_lowercase(),
                subdomains: false,
                http: url.scheme() == "http",
            });
        }
        self
    }

    /// Whether a download may fetch `url`.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return false;
        };
        let scheme = url.scheme();
        self.0.iter().any(|p| {
            let host_matches = if p.subdomains {
                host.strip_suffix(&p.host)
                    .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
            } else {
                host == p.host
            };
            host_matches && (scheme == "https" || (scheme == "http" && p.http))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(list: &DownloadHosts, url: &str) -> bool {
        list.allows(&Url::parse(url).unwrap())
    }

    #[test]
    fn zoom_domains_over_https_only_by_default() {
        let zoom = DownloadHosts::default();
        assert!(allows(&zoom, "https://us02web.zoom.us/rec/download/abc"));
        assert!(allows(
            &zoom,
            "https://ssrweb.zoom.us/cmr/replay/2026/x.mp4?Signature=s"
        ));
        assert!(allows(&zoom, "https://zoom.us/rec/webhook_download/abc"));
        assert!(allows(&zoom, "https://ZOOM.US/rec/x"));
        assert!(allows(&zoom, "https://files.zoomgov.com/x"));
        assert!(
            !allows(&zoom, "http://us02web.zoom.us/rec/download/abc"),
            "http"
        );
        assert!(!allows(&zoom, "https://zoom.us.attacker.example/x"));
        assert!(!allows(&zoom, "https://attackerzoom.us/x"));
        assert!(!allows(&zoom, "https://169.254.169.254/latest/meta-data"));
        assert!(!allows(&zoom, "file:///etc/passwd"));
    }

    #[test]
    fn an_http_entry_allows_plain_http_to_its_host_only() {
        let list = DownloadHosts::parse("*.zoom.us, http://127.0.0.1").unwrap();
        assert!(allows(&list, "http://127.0.0.1:9090/rec/download/abc"));
        assert!(allows(&list, "https://127.0.0.1/x"));
        assert!(!allows(&list, "http://localhost:9090/x"));
        assert!(!allows(&list, "http://a.zoom.us/x"));
        let with_api =
            DownloadHosts::default().with_host_of(&Url::parse("http://127.0.0.1:9090/v2").unwrap());
        assert!(allows(&with_api, "http://127.0.0.1:9090/rec/download/abc"));
    }

    #[test]
    fn bad_entries_are_named() {
        for (text, expected) in [
            ("zoom.us,*", "\"*\" is not a host name"),
            ("a/b", "\"a/b\" is not a host name"),
            (" , ", "the download host list is empty"),
            ("*.*.zoom.us", "\"*.*.zoom.us\""),
        ] {
            let e = DownloadHosts::parse(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }
}
