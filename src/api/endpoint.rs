//! Where requests go: one of the service's regional domains (reference §1.2), or a base URL
//! given with `--endpoint` (the emulator, a proxy).
//!
//! The service is HTTPS only; plain `http://` is accepted for a base URL because the emulator
//! listens on loopback without TLS.

use std::fmt;
use std::str::FromStr;

use reqwest::Url;

/// The REST service path of every group command.
pub const SERVICE: &str = "group_open_http_svc";

/// A data-centre region, by the name `--region` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    China,
    Singapore,
    Seoul,
    Tokyo,
    Frankfurt,
    SiliconValley,
    Jakarta,
    Mumbai,
}

impl Region {
    pub const ALL: [Region; 8] = [
        Region::China,
        Region::Singapore,
        Region::Seoul,
        Region::Tokyo,
        Region::Frankfurt,
        Region::SiliconValley,
        Region::Jakarta,
        Region::Mumbai,
    ];

    /// The name users write (`--region`, `TIM_REGION`).
    pub fn as_str(self) -> &'static str {
        match self {
            Region::China => "china",
            Region::Singapore => "singapore",
            Region::Seoul => "seoul",
            Region::Tokyo => "tokyo",
            Region::Frankfurt => "frankfurt",
            Region::SiliconValley => "silicon-valley",
            Region::Jakarta => "jakarta",
            Region::Mumbai => "mumbai",
        }
    }

    /// The primary domain of the region's REST gateway.
    pub fn host(self) -> &'static str {
        match self {
            Region::China => "console.tim.qq.com",
            Region::Singapore => "adminapisgp.im.qcloud.com",
            Region::Seoul => "adminapikr.im.qcloud.com",
            Region::Tokyo => "adminapijpn.im.qcloud.com",
            Region::Frankfurt => "adminapiger.im.qcloud.com",
            Region::SiliconValley => "adminapiusa.im.qcloud.com",
            Region::Jakarta => "adminapiidn.im.qcloud.com",
            Region::Mumbai => "adminapiind.im.qcloud.com",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Region {
    /// Tencent Cloud's own names for the region (its API and console regions), also taken.
    /// China's data centre serves the mainland regions alike.
    pub fn tencent_names(self) -> &'static [&'static str] {
        match self {
            Region::China => &["ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-nanjing"],
            Region::Singapore => &["ap-singapore"],
            Region::Seoul => &["ap-seoul"],
            Region::Tokyo => &["ap-tokyo"],
            Region::Frankfurt => &["eu-frankfurt"],
            Region::SiliconValley => &["na-siliconvalley"],
            Region::Jakarta => &["ap-jakarta"],
            Region::Mumbai => &["ap-mumbai"],
        }
    }
}

impl FromStr for Region {
    type Err = EndpointError;

    /// Case-insensitive; `silicon_valley` and `siliconvalley` are `silicon-valley`; Tencent's
    /// names (`ap-singapore`) are taken too. An unknown name gets a "did you mean".
    fn from_str(s: &str) -> Result<Region, EndpointError> {
        let wanted = s.trim().to_lowercase().replace('_', "-");
        let names =
            |r: Region| std::iter::once(r.as_str()).chain(r.tencent_names().iter().copied());
        if let Some(region) = Region::ALL.into_iter().find(|&r| {
            names(r).any(|name| name == wanted || name.replace('-', "") == wanted.replace('-', ""))
        }) {
            return Ok(region);
        }
        let suggestion = Region::ALL
            .into_iter()
            .flat_map(|r| names(r).map(move |name| (name, r)))
            .map(|(name, r)| (strsim::levenshtein(name, &wanted), r))
            .filter(|&(distance, _)| distance <= 3)
            .min_by_key(|&(distance, _)| distance)
            .map(|(_, r)| r);
        Err(EndpointError::UnknownRegion {
            name: s.to_owned(),
            suggestion,
        })
    }
}

/// Why a region name or endpoint URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error(
        "unknown region {name:?}{} (expected one of: china, singapore, seoul, tokyo, frankfurt, silicon-valley, jakarta, mumbai, or Tencent's names such as ap-singapore)",
        suggestion.map(|r| format!(": did you mean {:?}?", r.as_str())).unwrap_or_default()
    )]
    UnknownRegion {
        name: String,
        suggestion: Option<Region>,
    },
    #[error("endpoint {url:?} is not a URL: {reason}")]
    NotAUrl { url: String, reason: String },
    #[error("endpoint {url:?} must be an http:// or https:// URL without query or fragment")]
    Unsupported { url: String },
}

/// The base of every request URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Region(Region),
    /// A base URL such as `http://127.0.0.1:8080`; `/v4/…` is appended to its path.
    Url(Url),
}

impl Endpoint {
    /// Parses a `--endpoint` value.
    pub fn url(text: &str) -> Result<Endpoint, EndpointError> {
        let url = Url::parse(text).map_err(|err| EndpointError::NotAUrl {
            url: text.to_owned(),
            reason: err.to_string(),
        })?;
        let scheme_ok = matches!(url.scheme(), "http" | "https");
        if !scheme_ok || url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some()
        {
            return Err(EndpointError::Unsupported {
                url: text.to_owned(),
            });
        }
        Ok(Endpoint::Url(url))
    }

    /// The URL of one command, without the query string (which carries the credentials and is
    /// added per request).
    pub fn command_url(&self, command: &str) -> Url {
        self.service_url(SERVICE, command)
    }

    /// The URL of a command of another REST service (`im_open_login_svc` for accounts).
    pub fn service_url(&self, service: &str, command: &str) -> Url {
        let base = match self {
            Endpoint::Region(region) => format!("https://{}", region.host()),
            Endpoint::Url(url) => url.as_str().trim_end_matches('/').to_owned(),
        };
        Url::parse(&format!("{base}/v4/{service}/{command}"))
            .expect("a valid base URL with an ASCII path appended stays valid")
    }
}

impl Endpoint {
    /// `host:port` of the endpoint, for error messages: never its path (a proxy's may be
    /// private) nor a query.
    pub fn host_port(&self) -> String {
        match self {
            Endpoint::Region(region) => format!("{}:443", region.host()),
            Endpoint::Url(url) => format!(
                "{}:{}",
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or_default()
            ),
        }
    }
}

impl Default for Endpoint {
    fn default() -> Endpoint {
        Endpoint::Region(Region::China)
    }
}

impl Endpoint {
    /// The region, when the endpoint was given as one.
    pub fn region(&self) -> Option<Region> {
        match self {
            Endpoint::Region(region) => Some(*region),
            Endpoint::Url(_) => None,
        }
    }

    /// The base URL the requests go to, without any user name or password a proxy URL holds.
    pub fn base_url(&self) -> String {
        match self {
            Endpoint::Region(region) => format!("https://{}", region.host()),
            Endpoint::Url(url) => {
                let mut shown = url.clone();
                let _ = shown.set_username("");
                let _ = shown.set_password(None);
                shown.to_string()
            }
        }
    }
}

/// `singapore (https://adminapisgp.im.qcloud.com)`, or the base URL; never a user name or
/// password in it, since plans and pull-request comments show it.
impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Region(region) => write!(f, "{region} ({})", self.base_url()),
            Endpoint::Url(_) => f.write_str(&self.base_url()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_maps_to_its_documented_domain() {
        let expected = [
            ("china", "https://console.tim.qq.com"),
            ("singapore", "https://adminapisgp.im.qcloud.com"),
            ("seoul", "https://adminapikr.im.qcloud.com"),
            ("tokyo", "https://adminapijpn.im.qcloud.com"),
            ("frankfurt", "https://adminapiger.im.qcloud.com"),
            ("silicon-valley", "https://adminapiusa.im.qcloud.com"),
            ("jakarta", "https://adminapiidn.im.qcloud.com"),
            ("mumbai", "https://adminapiind.im.qcloud.com"),
        ];
        assert_eq!(expected.len(), Region::ALL.len());
        for (name, base) in expected {
            let region: Region = name.parse().unwrap();
            assert_eq!(region.as_str(), name);
            assert_eq!(
                Endpoint::Region(region)
                    .command_url("get_group_info")
                    .as_str(),
                format!("{base}/v4/group_open_http_svc/get_group_info")
            );
        }
    }

    #[test]
    fn region_names_are_case_insensitive_and_take_tencents_names() {
        for (text, region) in [
            ("Singapore", Region::Singapore),
            (" SINGAPORE ", Region::Singapore),
            ("ap-singapore", Region::Singapore),
            ("AP-Seoul", Region::Seoul),
            ("silicon_valley", Region::SiliconValley),
            ("SiliconValley", Region::SiliconValley),
            ("na-siliconvalley", Region::SiliconValley),
            ("eu-frankfurt", Region::Frankfurt),
            ("ap-guangzhou", Region::China),
            ("ap-shanghai", Region::China),
        ] {
            assert_eq!(text.parse::<Region>(), Ok(region), "{text:?}");
        }
    }

    #[test]
    fn unknown_region_is_refused_with_the_choices_and_a_suggestion() {
        let err = "singapor".parse::<Region>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("did you mean \"singapore\"?"), "{text}");
        assert!(text.contains("silicon-valley"), "{text}");
        let far = "atlantis".parse::<Region>().unwrap_err().to_string();
        assert!(!far.contains("did you mean"), "{far}");
        let tencent = "ap-frankfurt".parse::<Region>().unwrap_err().to_string();
        assert!(tencent.contains("did you mean \"frankfurt\"?"), "{tencent}");
    }

    #[test]
    fn base_url_keeps_scheme_port_and_path_prefix() {
        let local = Endpoint::url("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            local.command_url("destroy_group").as_str(),
            "http://127.0.0.1:8080/v4/group_open_http_svc/destroy_group"
        );
        let proxied = Endpoint::url("https://proxy.example/tim/").unwrap();
        assert_eq!(
            proxied.command_url("import_group").as_str(),
            "https://proxy.example/tim/v4/group_open_http_svc/import_group"
        );
    }

    #[test]
    fn host_port_leaves_out_path_and_credentials() {
        let cases = [
            ("http://127.0.0.1:8080", "127.0.0.1:8080"),
            ("https://user:pw@proxy.example/tim/", "proxy.example:443"),
            ("http://[::1]/", "[::1]:80"),
        ];
        for (url, expected) in cases {
            assert_eq!(Endpoint::url(url).unwrap().host_port(), expected);
        }
        assert_eq!(
            Endpoint::Region(Region::Tokyo).host_port(),
            "adminapijpn.im.qcloud.com:443"
        );
    }

    #[test]
    fn odd_base_urls_are_refused() {
        for bad in [
            "127.0.0.1:8080",
            "ftp://host",
            "http://host/?sdkappid=1",
            "http://host/#x",
            "not a url",
        ] {
            assert!(Endpoint::url(bad).is_err(), "{bad} was accepted");
        }
    }
}
