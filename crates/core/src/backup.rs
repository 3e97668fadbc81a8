//! The `[[backup]]` tables: each one target of `ceramic-backup` with its selection and
//! schedule, built into a [`Runner`] by [`BackupConfig::to_runner`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ceramic_backup::{
    DirTarget, Filter, IpfsTarget, Runner, S3Config, S3Target, Selection, Target,
};
use ceramic_storage::Storage;
use serde::Deserialize;

use crate::ConfigError;

/// The timeout of one S3 request, or of one block's fetch and pin by an IPFS peer.
const S3_TIMEOUT: Duration = Duration::from_secs(60);

/// One `[[backup]]` table (see the crate docs for the keys and their defaults).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct BackupConfig {
    /// The target's name (unique; the metrics label and the CLI's `--target`).
    pub name: String,
    /// `dir`, `s3` or `ipfs`.
    pub kind: String,
    /// `dir`: the directory; `ipfs`: the directory of the manifest and segment indexes.
    pub path: Option<PathBuf>,
    /// `ipfs`: the IPFS peer's control URL (helia's `peer.mjs` with `HELIA_CONTROL=1`).
    pub control: Option<String>,
    /// `s3`: the endpoint URL (path-style requests).
    pub endpoint: Option<String>,
    /// `s3`: the bucket.
    pub bucket: Option<String>,
    /// `s3`: the region signed for.
    pub region: String,
    /// `s3`: a prefix of every object name (empty, or ending in `/`).
    pub prefix: String,
    /// `s3`: the environment variable holding the access key id.
    pub access_key_env: String,
    /// `s3`: the environment variable holding the secret key.
    pub secret_key_env: String,
    /// `pinned` or `filter`.
    pub streams: String,
    /// `filter`: the metadata's family.
    pub family: Option<String>,
    /// `filter`: the first controller.
    pub controller: Option<String>,
    /// `filter`: the metadata's model.
    pub model: Option<String>,
    /// Run after each applied anchor batch.
    pub after_anchor: bool,
    /// Also run every this many seconds (0: no timer).
    pub interval_secs: u64,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            name: String::new(),
            kind: String::new(),
            path: None,
            control: None,
            endpoint: None,
            bucket: None,
            region: "us-east-1".into(),
            prefix: String::new(),
            access_key_env: "AWS_ACCESS_KEY_ID".into(),
            secret_key_env: "AWS_SECRET_ACCESS_KEY".into(),
            streams: "pinned".into(),
            family: None,
            controller: None,
            model: None,
            after_anchor: true,
            interval_secs: 0,
        }
    }
}

fn invalid(key: &'static str, name: &str, reason: impl std::fmt::Display) -> ConfigError {
    ConfigError::Invalid { key, reason: format!("[[backup]] {name:?}: {reason}") }
}

impl BackupConfig {
    /// The interval timer, if any.
    pub fn interval(&self) -> Option<Duration> {
        (self.interval_secs > 0).then(|| Duration::from_secs(self.interval_secs))
    }

    /// Which streams it holds.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `backup.streams`, or a filter key set with `pinned`.
    pub fn selection(&self) -> Result<Selection, ConfigError> {
        let filter = Filter {
            family: self.family.clone(),
            controller: self.controller.clone(),
            model: self.model.clone(),
        };
        let any = filter != Filter::default();
        match self.streams.as_str() {
            "pinned" if any => {
                let key = if self.family.is_some() {
                    "backup.family"
                } else if self.controller.is_some() {
                    "backup.controller"
                } else {
                    "backup.model"
                };
                Err(invalid(key, &self.name, "only with streams = \"filter\""))
            }
            "pinned" => Ok(Selection::Pinned),
            "filter" if !any => Err(invalid(
                "backup.streams",
                &self.name,
                "\"filter\" needs family, controller or model",
            )),
            "filter" => Ok(Selection::Filter(filter)),
            other => Err(invalid(
                "backup.streams",
                &self.name,
                format!("{other:?} is not \"pinned\" or \"filter\""),
            )),
        }
    }

    /// The target, reading S3 credentials from the environment through `env`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the key that is missing, set for the wrong kind, or bad.
    pub fn target(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Arc<dyn Target>, ConfigError> {
        let name = &self.name;
        let s3_only = [
            ("backup.endpoint", self.endpoint.is_some()),
            ("backup.bucket", self.bucket.is_some()),
            ("backup.prefix", !self.prefix.is_empty()),
        ];
        let refuse_s3 = |kind: &str| match s3_only.iter().find(|(_, set)| *set) {
            Some((key, _)) => {
                Err(invalid(key, name, format!("only for kind = \"s3\", not {kind:?}")))
            }
            None => Ok(()),
        };
        let path = || self.path.as_ref().ok_or_else(|| invalid("backup.path", name, "missing"));
        if self.kind != "ipfs" && self.control.is_some() {
            return Err(invalid("backup.control", name, "only for kind = \"ipfs\""));
        }
        match self.kind.as_str() {
            "dir" => {
                refuse_s3("dir")?;
                Ok(Arc::new(DirTarget::new(path()?)))
            }
            "ipfs" => {
                refuse_s3("ipfs")?;
                let control = self
                    .control
                    .clone()
                    .ok_or_else(|| invalid("backup.control", name, "missing"))?;
                if !control.starts_with("http://") && !control.starts_with("https://") {
                    return Err(invalid("backup.control", name, "must be an http(s) URL"));
                }
                Ok(Arc::new(IpfsTarget::new(control, DirTarget::new(path()?), S3_TIMEOUT)))
            }
            "s3" => {
                if self.path.is_some() {
                    return Err(invalid(
                        "backup.path",
                        name,
                        "only for kind = \"dir\" or \"ipfs\"",
                    ));
                }
                let endpoint = self
                    .endpoint
                    .clone()
                    .ok_or_else(|| invalid("backup.endpoint", name, "missing"))?;
                let bucket =
                    self.bucket.clone().ok_or_else(|| invalid("backup.bucket", name, "missing"))?;
                let read = |key: &'static str, var: &str| {
                    env(var).ok_or_else(|| {
                        invalid(key, name, format!("the environment variable {var} is not set"))
                    })
                };
                let config = S3Config {
                    endpoint,
                    bucket,
                    region: self.region.clone(),
                    access_key: read("backup.access_key_env", &self.access_key_env)?,
                    secret_key: read("backup.secret_key_env", &self.secret_key_env)?,
                    prefix: self.prefix.clone(),
                    timeout: S3_TIMEOUT,
                };
                let target = S3Target::new(&config).map_err(|e| {
                    let key =
                        if self.prefix.is_empty() { "backup.endpoint" } else { "backup.prefix" };
                    invalid(key, name, e)
                })?;
                Ok(Arc::new(target))
            }
            other => Err(invalid(
                "backup.kind",
                name,
                format!("{other:?} is not \"dir\", \"s3\" or \"ipfs\""),
            )),
        }
    }

    /// The runner of this target over `store`.
    ///
    /// # Errors
    /// As [`BackupConfig::selection`] and [`BackupConfig::target`].
    pub fn to_runner(
        &self,
        store: Arc<dyn Storage>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Runner, ConfigError> {
        let selection = self.selection()?;
        let target = self.target(env)?;
        Ok(Runner::new(self.name.clone(), self.kind.clone(), target, store, selection))
    }
}

/// Checks the tables together: every name set, valid and unique.
///
/// # Errors
/// [`ConfigError::Invalid`] naming `backup.name`.
pub(crate) fn check_names(tables: &[BackupConfig]) -> Result<(), ConfigError> {
    for (i, table) in tables.iter().enumerate() {
        let name = &table.name;
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(invalid("backup.name", name, "must be a non-empty [A-Za-z0-9._-] name"));
        }
        if tables[..i].iter().any(|t| t.name == *name) {
            return Err(invalid("backup.name", name, "is used twice"));
        }
    }
    Ok(())
}

/// Builds every configured runner.
///
/// # Errors
/// The first table's [`ConfigError`].
pub(crate) fn runners(
    tables: &[BackupConfig],
    store: &Arc<dyn Storage>,
) -> Result<Vec<Arc<Runner>>, ConfigError> {
    check_names(tables)?;
    let env = |var: &str| std::env::var(var).ok();
    tables.iter().map(|t| t.to_runner(store.clone(), &env).map(Arc::new)).collect()
}

#[cfg(test)]
mod tests {
    use crate::NodeConfig;

    use super::*;

    fn env(var: &str) -> Option<String> {
        matches!(var, "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "MY_KEY").then(|| "k".into())
    }

    #[test]
    fn backup_tables_parse_with_their_defaults() {
        let config = NodeConfig::parse(
            "[[backup]]\nname = \"local\"\nkind = \"dir\"\npath = \"/b\"\n\n\
             [[backup]]\nname = \"s3\"\nkind = \"s3\"\nendpoint = \"http://127.0.0.1:9000\"\n\
             bucket = \"b\"\nprefix = \"n1/\"\naccess_key_env = \"MY_KEY\"\n\
             streams = \"filter\"\nfamily = \"notes\"\nafter_anchor = false\ninterval_secs = 60\n\n\
             [[backup]]\nname = \"ipfs\"\nkind = \"ipfs\"\npath = \"/i\"\ncontrol = \"http://127.0.0.1:9\"",
        )
        .unwrap();
        assert!(NodeConfig::parse("").unwrap().backup.is_empty());
        let [dir, s3, ipfs] = &config.backup[..] else { panic!("{:?}", config.backup) };
        assert_eq!(ipfs.control.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!((dir.after_anchor, dir.interval()), (true, None));
        assert_eq!(dir.selection().unwrap(), Selection::Pinned);
        assert_eq!(dir.streams, "pinned");
        assert_eq!(s3.region, "us-east-1");
        assert_eq!(s3.secret_key_env, "AWS_SECRET_ACCESS_KEY");
        assert_eq!(s3.interval(), Some(Duration::from_secs(60)));
        let Selection::Filter(filter) = s3.selection().unwrap() else { panic!() };
        assert_eq!(filter.family.as_deref(), Some("notes"));
        let store: Arc<dyn Storage> = Arc::new(ceramic_storage::MemoryStorage::new());
        for table in &config.backup {
            let runner = table.to_runner(store.clone(), &env).unwrap();
            assert_eq!(runner.name(), table.name);
        }
    }

    #[test]
    fn bad_backup_tables_name_the_key() {
        let store: Arc<dyn Storage> = Arc::new(ceramic_storage::MemoryStorage::new());
        for (text, key) in [
            ("kind = \"tape\"", "backup.kind"),
            ("kind = \"ipfs\"\npath = \"/i\"", "backup.control"),
            ("kind = \"ipfs\"\ncontrol = \"http://127.0.0.1:1\"", "backup.path"),
            ("kind = \"ipfs\"\npath = \"/i\"\ncontrol = \"tcp://x\"", "backup.control"),
            ("kind = \"dir\"\npath = \"/b\"\ncontrol = \"http://h\"", "backup.control"),
            ("kind = \"dir\"", "backup.path"),
            ("kind = \"dir\"\npath = \"/b\"\nbucket = \"x\"", "backup.bucket"),
            ("kind = \"s3\"\nbucket = \"b\"", "backup.endpoint"),
            ("kind = \"s3\"\nendpoint = \"http://h\"", "backup.bucket"),
            (
                "kind = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"\npath = \"/p\"",
                "backup.path",
            ),
            (
                "kind = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"\naccess_key_env = \"NONE\"",
                "backup.access_key_env",
            ),
            ("kind = \"s3\"\nendpoint = \"ftp://h\"\nbucket = \"b\"", "backup.endpoint"),
            (
                "kind = \"s3\"\nendpoint = \"http://h\"\nbucket = \"b\"\nprefix = \"p\"",
                "backup.prefix",
            ),
            ("kind = \"dir\"\npath = \"/b\"\nstreams = \"all\"", "backup.streams"),
            ("kind = \"dir\"\npath = \"/b\"\nstreams = \"filter\"", "backup.streams"),
            ("kind = \"dir\"\npath = \"/b\"\nfamily = \"f\"", "backup.family"),
        ] {
            let config = NodeConfig::parse(&format!("[[backup]]\nname = \"t\"\n{text}")).unwrap();
            let err = config.backup[0].to_runner(store.clone(), &env).unwrap_err();
            assert!(err.to_string().contains(key), "{text}: {err}");
            assert!(err.to_string().contains("\"t\""), "{text}: {err}");
        }
        assert!(NodeConfig::parse("[[backup]]\nname = \"t\"\nbukcet = \"x\"").is_err());
        let dir = "kind = \"dir\"\npath = \"/b\"";
        for names in [&["a", "a"][..], &[""], &["a b"]] {
            let text: String =
                names.iter().map(|n| format!("[[backup]]\nname = \"{n}\"\n{dir}\n")).collect();
            let config = NodeConfig::parse(&text).unwrap();
            let err = runners(&config.backup, &store).unwrap_err();
            assert!(err.to_string().contains("backup.name"), "{names:?}: {err}");
        }
    }
}
