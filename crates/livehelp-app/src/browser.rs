//! Browser, OS and device from a User-Agent string (M6), with the uap-core rules
//! (`data/uap-regexes.json`, vendored; see `data/README.md`) through the `ua-parser`
//! crate. Building the matcher compiles about a thousand regexes, so it happens once,
//! lazily, on first use, and lives in the [`App`](crate::App) (no global state).

use std::sync::OnceLock;

/// The vendored uap-core rules, as JSON.
const RULES: &str = include_str!("../data/uap-regexes.json");

/// What a User-Agent says, in words an operator can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserSummary {
    /// Browser family and version, e.g. "Chrome 131.0"; "Other" when unknown.
    pub browser: String,
    /// Operating system and version, e.g. "Mac OS X 10.15"; "Other" when unknown.
    pub os: String,
    /// Device family, e.g. "iPhone"; "Other" for desktops and unknowns.
    pub device: String,
}

/// Lazily built User-Agent parser.
#[derive(Default)]
pub struct UserAgentParser {
    extractor: OnceLock<Option<ua_parser::Extractor<'static>>>,
}

impl UserAgentParser {
    /// Parses `user_agent`. Never fails: unknown parts are "Other". If the vendored rules
    /// could not be loaded (a packaging bug, logged once), every part is "Other".
    pub fn summarize(&self, user_agent: &str) -> BrowserSummary {
        let other = || "Other".to_owned();
        let Some(extractor) = self.extractor.get_or_init(build) else {
            return BrowserSummary {
                browser: other(),
                os: other(),
                device: other(),
            };
        };
        let (browser, os, device) = extractor.extract(user_agent);
        let browser = browser.map_or_else(other, |value| {
            join_version(
                &value.family,
                [value.major, value.minor].into_iter().flatten(),
            )
        });
        let os = os.map_or_else(other, |value| {
            join_version(
                &value.os,
                [value.major.as_deref(), value.minor.as_deref()]
                    .into_iter()
                    .flatten(),
            )
        });
        let device = device.map_or_else(other, |value| value.device.into_owned());
        BrowserSummary {
            browser,
            os,
            device,
        }
    }
}

fn join_version<'a>(family: &str, parts: impl Iterator<Item = &'a str>) -> String {
    let version: Vec<&str> = parts.collect();
    if version.is_empty() {
        family.to_owned()
    } else {
        format!("{family} {}", version.join("."))
    }
}

fn build() -> Option<ua_parser::Extractor<'static>> {
    let regexes: ua_parser::Regexes<'static> = match serde_json::from_str(RULES) {
        Ok(regexes) => regexes,
        Err(error) => {
            tracing::error!(%error, "user-agent rules do not parse; browser details will show as Other");
            return None;
        }
    };
    match ua_parser::Extractor::try_from(regexes) {
        Ok(extractor) => Some(extractor),
        Err(error) => {
            tracing::error!(%error, "user-agent rules do not compile; browser details will show as Other");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_recognised() {
        let parser = UserAgentParser::default();
        let chrome = parser.summarize(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        );
        assert_eq!(chrome.browser, "Chrome 131.0");
        assert_eq!(chrome.os, "Linux");
        let iphone = parser.summarize(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        );
        assert_eq!(iphone.browser, "Mobile Safari 17.1");
        assert_eq!(iphone.os, "iOS 17.1");
        assert_eq!(iphone.device, "iPhone");
        let firefox = parser.summarize(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        );
        assert_eq!(firefox.browser, "Firefox 133.0");
        assert_eq!(firefox.os, "Windows 10");
    }

    #[test]
    fn garbage_is_other_not_an_error() {
        let parser = UserAgentParser::default();
        let summary = parser.summarize("<script>alert(1)</script>");
        assert_eq!(summary.browser, "Other");
        assert_eq!(summary.device, "Other");
    }
}
