//! Client configuration.

use crate::action::Service;
use crate::limiter::RateLimits;
use crate::retry::RetryPolicy;
use reqwest::Url;
use std::time::Duration;
use tunnelform_tc3::Credentials;

pub const ENV_SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
pub const ENV_SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";
pub const ENV_SECURITY_TOKEN: &str = "TENCENTCLOUD_SECURITY_TOKEN";
pub const ENV_REGION: &str = "TENCENTCLOUD_REGION";
pub const ENV_UIN: &str = "TENCENTCLOUD_UIN";

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `https://vpc.tencentcloudapi.com`, `https://tag.tencentcloudapi.com`, `https://sts.tencentcloudapi.com`.
    Tencent,
    /// One URL for every service (the sandbox serves both on one port), e.g. `http://127.0.0.1:9000`.
    Override(Url),
}

impl Endpoint {
    /// Parses an override URL; it must be `http` or `https` with a host.
    pub fn parse(s: &str) -> Result<Endpoint, ConfigError> {
        let url =
            Url::parse(s.trim()).map_err(|e| ConfigError::InvalidEndpoint(format!("{s}: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError::InvalidEndpoint(format!(
                "{s}: expected http(s)://HOST[:PORT]"
            )));
        }
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
            return Err(ConfigError::InvalidEndpoint(format!(
                "{s}: no credentials or query allowed"
            )));
        }
        Ok(Endpoint::Override(url))
    }

    /// The URL a service's requests are posted to.
    pub fn url_for(&self, service: Service) -> Url {
        match self {
            Endpoint::Override(u) => u.clone(),
            Endpoint::Tencent => match Url::parse(service.default_endpoint()) {
                Ok(u) => u,
                Err(_) => unreachable!("static endpoint URLs are valid"),
            },
        }
    }
}

/// Configuration of a [`crate::Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub credentials: Credentials,
    pub endpoint: Endpoint,
    /// Default region (`TENCENTCLOUD_REGION`); calls name their region explicitly, this is what callers
    /// use when configuration does not say.
    pub region: Option<String>,
    /// Account id, for the tag service's six-segment resource names (`TENCENTCLOUD_UIN`). When `None`,
    /// [`crate::Client::uin`] discovers it.
    pub uin: Option<String>,
    pub rate_limits: RateLimits,
    pub retry: RetryPolicy,
    /// Timeout of one HTTP exchange (sending and reading the answer).
    pub request_timeout: Duration,
    /// Timeout of establishing a connection (a timeout here means "not sent").
    pub connect_timeout: Duration,
    /// `X-TC-Language` (`en-US` or `zh-CN`): the language of error messages. `None` omits the header.
    pub language: Option<String>,
}

impl ClientConfig {
    /// Defaults: Tencent's endpoints, documented rate limits, default retry policy, 30 s request timeout.
    pub fn new(credentials: Credentials) -> Self {
        ClientConfig {
            credentials,
            endpoint: Endpoint::Tencent,
            region: None,
            uin: None,
            rate_limits: RateLimits::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            language: Some("en-US".to_string()),
        }
    }

    /// Reads `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, optional `TENCENTCLOUD_SECURITY_TOKEN`,
    /// `TENCENTCLOUD_REGION` and `TENCENTCLOUD_UIN` from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_vars(|k| std::env::var(k).ok())
    }

    /// [`ClientConfig::from_env`] with an explicit variable source (for tests and embedding).
    pub fn from_env_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let id = get(ENV_SECRET_ID).ok_or(ConfigError::MissingEnv(ENV_SECRET_ID))?;
        let key = get(ENV_SECRET_KEY).ok_or(ConfigError::MissingEnv(ENV_SECRET_KEY))?;
        let token = get(ENV_SECURITY_TOKEN);
        let mut c = ClientConfig::new(Credentials::new(id, key, token));
        c.region = get(ENV_REGION);
        c.uin = get(ENV_UIN);
        Ok(c)
    }

    /// Sends every service's requests to `url` (e.g. the sandbox's `http://127.0.0.1:9000`).
    pub fn with_endpoint(mut self, url: &str) -> Result<Self, ConfigError> {
        self.endpoint = Endpoint::parse(url)?;
        Ok(self)
    }
}

/// A configuration problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set (Tencent Cloud API credentials are read from TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY)")]
    MissingEnv(&'static str),
    #[error("invalid endpoint URL {0}")]
    InvalidEndpoint(String),
    #[error("could not build the HTTP client: {0}")]
    Http(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn from_env_reads_everything() {
        let c = ClientConfig::from_env_vars(env(&[
            (ENV_SECRET_ID, "AKIDx"),
            (ENV_SECRET_KEY, "very-secret"),
            (ENV_SECURITY_TOKEN, "tok"),
            (ENV_REGION, "ap-shanghai"),
            (ENV_UIN, "100000000001"),
        ]))
        .unwrap();
        assert_eq!(c.credentials.secret_id, "AKIDx");
        assert_eq!(c.credentials.secret_key(), "very-secret");
        assert_eq!(c.credentials.token(), Some("tok"));
        assert_eq!(c.region.as_deref(), Some("ap-shanghai"));
        assert_eq!(c.uin.as_deref(), Some("100000000001"));
        assert_eq!(c.endpoint, Endpoint::Tencent);
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("very-secret") && !dbg.contains("\"tok\""),
            "{dbg}"
        );
    }

    #[test]
    fn from_env_missing_is_a_clear_error() {
        let e = ClientConfig::from_env_vars(env(&[(ENV_SECRET_KEY, "k")])).unwrap_err();
        assert_eq!(e, ConfigError::MissingEnv(ENV_SECRET_ID));
        assert!(e.to_string().contains("TENCENTCLOUD_SECRET_ID"));
        let e = ClientConfig::from_env_vars(env(&[(ENV_SECRET_ID, "id"), (ENV_SECRET_KEY, " ")]))
            .unwrap_err();
        assert_eq!(e, ConfigError::MissingEnv(ENV_SECRET_KEY));
        let c = ClientConfig::from_env_vars(env(&[(ENV_SECRET_ID, "id"), (ENV_SECRET_KEY, "k")]))
            .unwrap();
        assert!(c.credentials.token().is_none() && c.region.is_none() && c.uin.is_none());
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            Endpoint::Tencent.url_for(Service::Vpc).as_str(),
            "https://vpc.tencentcloudapi.com/"
        );
        assert_eq!(
            Endpoint::Tencent.url_for(Service::Tag).as_str(),
            "https://tag.tencentcloudapi.com/"
        );
        assert_eq!(
            Endpoint::Tencent.url_for(Service::Sts).as_str(),
            "https://sts.tencentcloudapi.com/"
        );
        let o = Endpoint::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(o.url_for(Service::Vpc).as_str(), "http://127.0.0.1:9000/");
        assert_eq!(o.url_for(Service::Tag).as_str(), "http://127.0.0.1:9000/");
        assert_eq!(o.url_for(Service::Sts).as_str(), "http://127.0.0.1:9000/");
        assert!(Endpoint::parse("127.0.0.1:9000").is_err());
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://u:p@x/").is_err());
    }
}
