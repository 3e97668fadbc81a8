//! The S3-compatible object store target.
//!
//! Requests are signed with `rusty-s3` (AWS signature v4 as presigned URLs, sans-IO) and sent
//! with the blocking `ureq` client the workspace already builds for Ethereum JSON-RPC. Why not
//! `object_store` with its `aws` feature: it pulls `reqwest` and its stack, which nothing else
//! in the workspace builds; measured cold with `-j2` in throwaway target dirs, it cost several
//! times the build time of `rusty-s3` + `ureq` (figures in `specs/backup.md`).

use std::time::Duration;

use rusty_s3::actions::{ListObjectsV2, S3Action};
use rusty_s3::{Bucket, Credentials, UrlStyle};

use crate::error::TargetError;
use crate::target::{Target, check_name};

/// How long a presigned request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// The largest object read back (a CAR of one stream's new commits, or the manifest).
const MAX_OBJECT: u64 = 1 << 30;

/// Where and how to reach a bucket.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The endpoint, `http(s)://host[:port]` (path-style requests: `<endpoint>/<bucket>/<key>`).
    pub endpoint: String,
    /// The bucket (must exist).
    pub bucket: String,
    /// The region signed for (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// The access key id.
    pub access_key: String,
    /// The secret key.
    pub secret_key: String,
    /// A prefix put before every object name (empty, or ending in `/`).
    pub prefix: String,
    /// The timeout of each request.
    pub timeout: Duration,
}

/// An S3 bucket (AWS, MinIO, s3rver, ...).
pub struct S3Target {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for S3Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Target")
            .field("url", &self.bucket.base_url().as_str())
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl S3Target {
    /// A client for `config`'s bucket (nothing is sent yet).
    ///
    /// # Errors
    /// [`TargetError::Endpoint`] when the endpoint is not an http(s) URL with a host, or the
    /// prefix is not a valid name prefix.
    pub fn new(config: &S3Config) -> Result<Self, TargetError> {
        let bad =
            |reason: String| TargetError::Endpoint { endpoint: config.endpoint.clone(), reason };
        let url = config.endpoint.parse().map_err(|e: url::ParseError| bad(e.to_string()))?;
        let bucket = Bucket::new(url, UrlStyle::Path, config.bucket.clone(), config.region.clone())
            .map_err(|e| bad(e.to_string()))?;
        if !config.prefix.is_empty()
            && (!config.prefix.ends_with('/')
                || check_name(config.prefix.trim_end_matches('/')).is_err())
        {
            return Err(bad(format!(
                "the prefix {:?} must be a name ending in '/'",
                config.prefix
            )));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(S3Target {
            bucket,
            credentials: Credentials::new(config.access_key.clone(), config.secret_key.clone()),
            prefix: config.prefix.clone(),
            agent,
        })
    }

    fn key(&self, name: &str) -> Result<String, TargetError> {
        check_name(name)?;
        Ok(format!("{}{name}", self.prefix))
    }
}

fn transport(op: &'static str, name: &str) -> impl FnOnce(ureq::Error) -> TargetError + use<> {
    let name = name.to_owned();
    move |source| TargetError::Transport { op, name, source: Box::new(source) }
}

fn read_body(
    op: &'static str,
    name: &str,
    response: &mut ureq::http::Response<ureq::Body>,
) -> Result<Vec<u8>, TargetError> {
    response.body_mut().with_config().limit(MAX_OBJECT).read_to_vec().map_err(transport(op, name))
}

fn status_error(op: &'static str, name: &str, status: u16) -> TargetError {
    TargetError::Status { op, name: name.to_owned(), status }
}

impl Target for S3Target {
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), TargetError> {
        let key = self.key(name)?;
        let url = self.bucket.put_object(Some(&self.credentials), &key).sign(SIGNED_FOR);
        let mut response =
            self.agent.put(url.as_str()).send(bytes).map_err(transport("PUT", name))?;
        let status = response.status().as_u16();
        let _ = read_body("PUT", name, &mut response);
        if !(200..300).contains(&status) {
            return Err(status_error("PUT", name, status));
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, TargetError> {
        let key = self.key(name)?;
        let url = self.bucket.get_object(Some(&self.credentials), &key).sign(SIGNED_FOR);
        let mut response = self.agent.get(url.as_str()).call().map_err(transport("GET", name))?;
        let status = response.status().as_u16();
        let body = read_body("GET", name, &mut response)?;
        match status {
            200..300 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(status_error("GET", name, status)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, TargetError> {
        let full = format!("{}{prefix}", self.prefix);
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = self.bucket.list_objects_v2(Some(&self.credentials));
            action.with_prefix(full.as_str());
            if let Some(token) = &token {
                action.with_continuation_token(token.as_str());
            }
            let url = action.sign(SIGNED_FOR);
            let mut response =
                self.agent.get(url.as_str()).call().map_err(transport("LIST", prefix))?;
            let status = response.status().as_u16();
            let body = read_body("LIST", prefix, &mut response)?;
            if !(200..300).contains(&status) {
                return Err(status_error("LIST", prefix, status));
            }
            let text = String::from_utf8_lossy(&body);
            let page = ListObjectsV2::parse_response(&text).map_err(|e| TargetError::Listing {
                prefix: prefix.to_owned(),
                source: Box::new(e),
            })?;
            names.extend(
                page.contents
                    .into_iter()
                    .filter_map(|c| c.key.strip_prefix(self.prefix.as_str()).map(str::to_owned)),
            );
            match page.next_continuation_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        names.sort();
        Ok(names)
    }

    fn delete(&self, name: &str) -> Result<(), TargetError> {
        let key = self.key(name)?;
        let url = self.bucket.delete_object(Some(&self.credentials), &key).sign(SIGNED_FOR);
        let mut response =
            self.agent.delete(url.as_str()).call().map_err(transport("DELETE", name))?;
        let status = response.status().as_u16();
        let _ = read_body("DELETE", name, &mut response);
        match status {
            200..300 | 404 => Ok(()),
            _ => Err(status_error("DELETE", name, status)),
        }
    }
}
