//! [`HookConfig`]: one `[[hooks]]` table of the node's configuration, and its validation.

use std::path::PathBuf;

use ceramic_service::HookEventKind;
use ceramic_streamid::StreamId;
use serde::Deserialize;

use crate::LoadError;

/// Default fuel per call: about ten million WebAssembly instructions.
pub const DEFAULT_FUEL: u64 = 10_000_000;
/// Default memory cap: 16 MiB.
pub const DEFAULT_MEMORY_BYTES: u64 = 16 * 1024 * 1024;
/// Default wall-clock limit per call.
pub const DEFAULT_TIMEOUT_MS: u64 = 1_000;
/// The most fuel one call may be given.
pub const MAX_FUEL: u64 = 10_000_000_000;
/// The largest memory cap (1 GiB).
pub const MAX_MEMORY_BYTES: u64 = 1024 * 1024 * 1024;
/// The smallest memory cap: one WebAssembly page.
pub const MIN_MEMORY_BYTES: u64 = 64 * 1024;
/// The longest wall-clock limit (a minute).
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// What a failing hook (trap, fuel, memory, time, bad answer) means for the write it was
/// asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OnError {
    /// The write goes on (the failure is counted and logged). The default: a broken hook
    /// must not stop the node's writes.
    #[default]
    Allow,
    /// The write is refused, as if the hook had vetoed it (fail closed).
    Veto,
}

/// Which streams a hook is called for; every key given must match (none: every stream).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FilterConfig {
    /// The stream's model (a StreamID), from its metadata's `model`.
    pub model: Option<String>,
    /// The stream's metadata `family`.
    pub family: Option<String>,
    /// A tag among the metadata's `tags`.
    pub tag: Option<String>,
    /// The stream's first controller (a DID).
    pub controller: Option<String>,
}

impl FilterConfig {
    /// The filter as `key=value` pairs (for `ListHooks`).
    pub fn pairs(&self) -> Vec<String> {
        [
            ("model", &self.model),
            ("family", &self.family),
            ("tag", &self.tag),
            ("controller", &self.controller),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.pairs().is_empty()
    }
}

/// One `[[hooks]]` table (`specs/hooks.md`, "Configuration").
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct HookConfig {
    /// The hook's name (metrics labels, logs, `ListHooks`); unique.
    pub name: String,
    /// The WebAssembly module (a path; relative paths are from the node's working directory).
    pub module: PathBuf,
    /// The events it takes after they happen: `commit_applied`, `anchored`, `pinned`,
    /// `unpinned`, `rejected`.
    #[serde(default)]
    pub events: Vec<String>,
    /// Whether it sees writes through this node's APIs before they are stored, and may veto
    /// them (the `before_write` event).
    #[serde(default)]
    pub veto: bool,
    /// What a failure means for a write it was asked about (`allow` or `veto`).
    #[serde(default)]
    pub on_error: OnError,
    /// Which streams it is called for.
    #[serde(default)]
    pub filter: FilterConfig,
    /// Fuel (about one unit per instruction) per call.
    #[serde(default = "default_fuel")]
    pub fuel: u64,
    /// The most linear memory it may have, in bytes.
    #[serde(default = "default_memory_bytes")]
    pub memory_bytes: u64,
    /// The wall-clock limit per call, HTTP calls included.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// URL prefixes `http_post` may call (each `http://` or `https://` with a host and a
    /// `/`); empty: no HTTP.
    #[serde(default)]
    pub allow_http: Vec<String>,
    /// Anything the hook wants, passed in every event as `config`.
    #[serde(default)]
    pub config: serde_json::Value,
}

fn default_fuel() -> u64 {
    DEFAULT_FUEL
}
fn default_memory_bytes() -> u64 {
    DEFAULT_MEMORY_BYTES
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}

impl HookConfig {
    /// A hook `name` running `module` with every other key at its default (no events, no veto).
    pub fn new(name: impl Into<String>, module: impl Into<PathBuf>) -> Self {
        HookConfig {
            name: name.into(),
            module: module.into(),
            events: Vec::new(),
            veto: false,
            on_error: OnError::Allow,
            filter: FilterConfig::default(),
            fuel: DEFAULT_FUEL,
            memory_bytes: DEFAULT_MEMORY_BYTES,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            allow_http: Vec::new(),
            config: serde_json::Value::Null,
        }
    }

    /// Checks every value of the `index`th hook (the module is checked when it is loaded).
    ///
    /// # Errors
    /// [`LoadError::Invalid`] naming the key, e.g. `hooks[0].fuel`.
    pub fn validate(&self, index: usize) -> Result<Vec<HookEventKind>, LoadError> {
        let bad = |key: &str, reason: String| LoadError::Invalid {
            key: format!("hooks[{index}].{key}"),
            reason,
        };
        let name_ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if self.name.is_empty() || self.name.len() > 64 || !self.name.chars().all(name_ok) {
            return Err(bad("name", format!("{:?} is not 1 to 64 of [A-Za-z0-9_-]", self.name)));
        }
        let mut events = Vec::new();
        for name in &self.events {
            let kind = HookEventKind::from_name(name).ok_or_else(|| {
                let known: Vec<_> = HookEventKind::ALL.iter().map(|k| k.name()).collect();
                bad("events", format!("unknown event {name:?} (known: {})", known.join(", ")))
            })?;
            if !events.contains(&kind) {
                events.push(kind);
            }
        }
        if events.is_empty() && !self.veto {
            return Err(bad("events", "no events and veto = false: it would never run".into()));
        }
        if !(1..=MAX_FUEL).contains(&self.fuel) {
            return Err(bad("fuel", format!("{} is not between 1 and {MAX_FUEL}", self.fuel)));
        }
        if !(MIN_MEMORY_BYTES..=MAX_MEMORY_BYTES).contains(&self.memory_bytes) {
            return Err(bad(
                "memory_bytes",
                format!(
                    "{} is not between {MIN_MEMORY_BYTES} and {MAX_MEMORY_BYTES}",
                    self.memory_bytes
                ),
            ));
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&self.timeout_ms) {
            return Err(bad(
                "timeout_ms",
                format!("{} is not between 1 and {MAX_TIMEOUT_MS}", self.timeout_ms),
            ));
        }
        for prefix in &self.allow_http {
            if !valid_prefix(prefix) {
                return Err(bad(
                    "allow_http",
                    format!(
                        "{prefix:?} is not an http:// or https:// URL prefix with a host and a path (`/`)"
                    ),
                ));
            }
        }
        if let Some(model) = &self.filter.model {
            model
                .parse::<StreamId>()
                .map_err(|e| bad("filter.model", format!("{model:?} is not a StreamID: {e}")))?;
        }
        for (key, value) in [
            ("filter.family", &self.filter.family),
            ("filter.tag", &self.filter.tag),
            ("filter.controller", &self.filter.controller),
        ] {
            if value.as_deref() == Some("") {
                return Err(bad(key, "empty".into()));
            }
        }
        Ok(events)
    }
}

/// `http://host[:port]/…` or `https://…`: a scheme, a non-empty host and a path, so that a
/// prefix never matches another host or port (`http://a:80` would match `http://a:8080`).
fn valid_prefix(prefix: &str) -> bool {
    let rest = prefix.strip_prefix("http://").or_else(|| prefix.strip_prefix("https://"));
    match rest.and_then(|r| r.split_once('/')) {
        Some((host, _)) => !host.is_empty() && !host.contains(['@', '?', '#', ' ']),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hook() -> HookConfig {
        let mut hook = HookConfig::new("h", "h.wasm");
        hook.events = vec!["commit_applied".into()];
        hook
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(hook().validate(0).unwrap(), vec![HookEventKind::CommitApplied]);
        let mut veto_only = HookConfig::new("v", "v.wasm");
        veto_only.veto = true;
        assert!(veto_only.validate(0).unwrap().is_empty());
    }

    #[test]
    fn a_bad_value_names_its_key() {
        type Tweak = Box<dyn Fn(&mut HookConfig)>;
        let cases: Vec<(&str, Tweak)> = vec![
            ("hooks[3].name", Box::new(|h| h.name = "a b".into())),
            ("hooks[3].events", Box::new(|h| h.events = vec!["commited".into()])),
            ("hooks[3].events", Box::new(|h| h.events.clear())),
            ("hooks[3].fuel", Box::new(|h| h.fuel = 0)),
            ("hooks[3].memory_bytes", Box::new(|h| h.memory_bytes = 1000)),
            ("hooks[3].timeout_ms", Box::new(|h| h.timeout_ms = MAX_TIMEOUT_MS + 1)),
            ("hooks[3].allow_http", Box::new(|h| h.allow_http = vec!["http://x:80".into()])),
            ("hooks[3].allow_http", Box::new(|h| h.allow_http = vec!["ftp://x/".into()])),
            ("hooks[3].filter.model", Box::new(|h| h.filter.model = Some("kx".into()))),
            ("hooks[3].filter.tag", Box::new(|h| h.filter.tag = Some(String::new()))),
        ];
        for (key, change) in cases {
            let mut h = hook();
            change(&mut h);
            match h.validate(3) {
                Err(LoadError::Invalid { key: got, .. }) => assert_eq!(got, key),
                other => panic!("{key}: {other:?}"),
            }
        }
    }

    #[test]
    fn url_prefixes_need_a_host_and_a_path() {
        assert!(valid_prefix("http://127.0.0.1:8080/"));
        assert!(valid_prefix("https://hooks.example.com/ceramic/"));
        assert!(!valid_prefix("http://127.0.0.1:8080"));
        assert!(!valid_prefix("http:///x"));
        assert!(!valid_prefix("http://user@host/"));
    }

    #[test]
    fn filter_pairs() {
        let filter = FilterConfig { tag: Some("t".into()), ..FilterConfig::default() };
        assert_eq!(filter.pairs(), vec!["tag=t".to_owned()]);
        assert!(FilterConfig::default().is_empty());
    }
}
