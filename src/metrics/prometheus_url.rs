//! A Prometheus base URL the cockpit will query, whether the command line or a plan file
//! gives it: http or https with a host, no credentials (they would show wherever the URL
//! does), and no query or fragment (the cockpit appends the API's path and query itself).

use url::Url;

/// Why a text is not a Prometheus base URL. Each caller says where credentials belong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("{0}; expected a URL like http://prometheus.monitoring:9090")]
    NotAUrl(url::ParseError),
    #[error(
        "expected an http:// or https:// URL with a host, like http://prometheus.monitoring:9090"
    )]
    NotHttp,
    #[error("keep credentials out of the URL")]
    Credentials,
    #[error("expected the Prometheus base URL, without ?query or #fragment")]
    NotBase,
}

/// The URL `text` names, when it is one the cockpit takes.
pub fn parse(text: &str) -> Result<Url, UrlError> {
    let url = Url::parse(text).map_err(UrlError::NotAUrl)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(UrlError::NotHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(UrlError::NotBase);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_base_urls_are_taken() {
        let url = parse("https://mon.example.com/prom").unwrap();
        assert_eq!(url.as_str(), "https://mon.example.com/prom");
        for (text, error) in [
            ("prometheus:9090", UrlError::NotHttp),
            ("ftp://p:9090", UrlError::NotHttp),
            ("http://ops:pw@p:9090", UrlError::Credentials),
            ("http://ops@p:9090", UrlError::Credentials),
            ("http://p:9090/api/v1/query?query=up", UrlError::NotBase),
            ("http://p:9090/#graph", UrlError::NotBase),
        ] {
            assert_eq!(parse(text), Err(error), "{text}");
        }
        assert!(matches!(parse("not a url"), Err(UrlError::NotAUrl(_))));
    }
}
