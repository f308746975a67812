//! Where backups go (`docs/operations.md`, "Off-site copies"): a folder on this machine, or
//! an S3-compatible object store given as `s3://BUCKET/PREFIX` (Amazon S3, MinIO, Ceph,
//! Garage, moto, ...), reached through the `object_store` crate.
//!
//! The endpoint and credentials come from the standard AWS environment variables:
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` when used),
//! `AWS_REGION` (default `us-east-1`) and `AWS_ENDPOINT_URL` for a store that is not Amazon
//! S3 (an `http://` endpoint is allowed, for a store on loopback or a private network).
//! An archive is always written to a local temporary file first (`TMPDIR`), then uploaded
//! in 5 MiB parts; downloads (restore, verify) go to a temporary file likewise.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, RetryConfig, WriteMultipart,
};

/// Where backups are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A folder on this machine (created when missing).
    Folder(PathBuf),
    /// An S3-compatible object store.
    S3(S3Location),
}

/// `s3://BUCKET/PREFIX`: a bucket and a key prefix without leading or trailing `/` (may
/// be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket's name.
    pub bucket: String,
    /// The key prefix (a "folder" in the bucket), e.g. `livehelp/prod`; empty for the
    /// bucket's root.
    pub prefix: String,
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Folder(folder) => write!(f, "{}", folder.display()),
            Destination::S3(location) => write!(f, "{location}"),
        }
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

impl Destination {
    /// Parses a `--to` / `--backup-to` value: `s3://BUCKET[/PREFIX]` is an object store,
    /// any other URL (`gs://`, `https://`, ...) is refused, anything else is a folder.
    pub fn parse(text: &str) -> anyhow::Result<Destination> {
        if let Some(location) = S3Location::parse(text)? {
            return Ok(Destination::S3(location));
        }
        if text.contains("://") {
            bail!(
                "{text:?}: backups go to a folder or to s3://BUCKET/PREFIX (any S3-compatible store, see docs/operations.md)"
            );
        }
        Ok(Destination::Folder(PathBuf::from(text)))
    }
}

impl S3Location {
    /// `Some` for an `s3://BUCKET[/PREFIX]` text, `None` for anything else; an error for
    /// an `s3://` text without a bucket.
    pub fn parse(text: &str) -> anyhow::Result<Option<S3Location>> {
        let Some(rest) = text.strip_prefix("s3://") else {
            return Ok(None);
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("{text:?}: say the bucket, as in s3://BUCKET/PREFIX");
        }
        Ok(Some(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        }))
    }

    /// The key of `name` under this prefix.
    pub fn key(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// A client for this bucket, configured from the AWS environment variables. Requests
    /// are retried by the client up to 3 times within 60 s (connect timeout 10 s); the
    /// scheduler retries a whole failed backup on top of that.
    pub fn client(&self) -> anyhow::Result<Arc<dyn ObjectStore>> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(60),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(10))
                    .with_timeout(Duration::from_secs(300)),
            );
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            builder = builder
                .with_allow_http(endpoint.starts_with("http://"))
                .with_endpoint(endpoint);
        }
        let store = builder
            .build()
            .with_context(|| format!("cannot set up the object store client for {self}"))?;
        Ok(Arc::new(store))
    }
}

/// Uploads the local file `from` to `key` in 5 MiB parts; a failed upload is aborted
/// (no partial object is left) and returned as an error.
pub async fn upload(store: &dyn ObjectStore, from: &Path, key: &ObjectPath) -> anyhow::Result<u64> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(from)
        .await
        .with_context(|| format!("cannot read {}", from.display()))?;
    let upload = store
        .put_multipart(key)
        .await
        .with_context(|| format!("cannot start the upload of {key}"))?;
    let mut writer = WriteMultipart::new(upload);
    let mut buffer = vec![0_u8; 1 << 20];
    let mut total = 0_u64;
    let written: anyhow::Result<()> = async {
        loop {
            let n = file
                .read(&mut buffer)
                .await
                .with_context(|| format!("cannot read {}", from.display()))?;
            if n == 0 {
                return Ok(());
            }
            writer
                .wait_for_capacity(4)
                .await
                .with_context(|| format!("cannot upload {key}"))?;
            writer.write(&buffer[..n]);
            total += n as u64;
        }
    }
    .await;
    if let Err(error) = written {
        let _ = writer.abort().await;
        return Err(error);
    }
    writer
        .finish()
        .await
        .with_context(|| format!("cannot upload {key}"))?;
    Ok(total)
}

/// Downloads `s3://BUCKET/KEY` into a new temporary file and returns it (deleted when
/// dropped).
pub async fn download(url: &str) -> anyhow::Result<tempfile::TempPath> {
    use tokio::io::AsyncWriteExt;
    let Some(location) = S3Location::parse(url)? else {
        bail!("{url:?} is not an s3:// URL");
    };
    if location.prefix.is_empty() {
        bail!(
            "{url:?}: say the archive's key, as in s3://BUCKET/PREFIX/livehelp-backup-....tar.zst"
        );
    }
    let store = location.client()?;
    let key = ObjectPath::from(location.prefix.as_str());
    let temp = tempfile::Builder::new()
        .prefix("livehelp-download-")
        .suffix(".tar.zst")
        .tempfile()
        .context("cannot create a temporary file for the download")?
        .into_temp_path();
    let mut file = tokio::fs::File::create(&temp)
        .await
        .with_context(|| format!("cannot write {}", temp.display()))?;
    let mut stream = store
        .get(&key)
        .await
        .with_context(|| format!("cannot download {url}"))?
        .into_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.with_context(|| format!("cannot download {url}"))?;
        file.write_all(&chunk)
            .await
            .with_context(|| format!("cannot write {}", temp.display()))?;
    }
    file.flush()
        .await
        .with_context(|| format!("cannot write {}", temp.display()))?;
    Ok(temp)
}

/// Whether `name` is a backup archive's file name (`livehelp-backup-*.tar.zst`).
pub fn is_backup_name(name: &str) -> bool {
    name.starts_with("livehelp-backup-") && name.ends_with(".tar.zst")
}

/// Deletes the oldest backups under `location`'s prefix (by their dated names, directly
/// under the prefix) beyond the newest `keep` (at least 1); returns the deleted keys.
pub async fn prune(
    store: &dyn ObjectStore,
    location: &S3Location,
    keep: usize,
) -> anyhow::Result<Vec<ObjectPath>> {
    let prefix = (!location.prefix.is_empty()).then(|| ObjectPath::from(location.prefix.as_str()));
    let listed = store
        .list_with_delimiter(prefix.as_ref())
        .await
        .with_context(|| format!("cannot list {location}"))?;
    let mut archives: Vec<ObjectPath> = listed
        .objects
        .into_iter()
        .map(|meta| meta.location)
        .filter(|key| key.filename().is_some_and(is_backup_name))
        .collect();
    archives.sort();
    let excess = archives.len().saturating_sub(keep.max(1));
    let mut deleted = Vec::new();
    for old in archives.into_iter().take(excess) {
        store
            .delete(&old)
            .await
            .with_context(|| format!("cannot delete {old} from {location}"))?;
        deleted.push(old);
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse() {
        assert_eq!(
            Destination::parse("s3://backups/livehelp/prod/").expect("s3"),
            Destination::S3(S3Location {
                bucket: "backups".into(),
                prefix: "livehelp/prod".into()
            })
        );
        assert_eq!(
            Destination::parse("s3://backups").expect("s3"),
            Destination::S3(S3Location {
                bucket: "backups".into(),
                prefix: String::new()
            })
        );
        assert_eq!(
            Destination::parse("/var/backups/livehelp").expect("folder"),
            Destination::Folder(PathBuf::from("/var/backups/livehelp"))
        );
        assert!(Destination::parse("s3:///prefix").is_err());
        assert!(Destination::parse("gs://bucket/prefix").is_err());
    }

    #[test]
    fn keys_sit_under_the_prefix() {
        let location = S3Location::parse("s3://b/p/q").expect("url").expect("s3");
        assert_eq!(location.key("x.tar.zst").as_ref(), "p/q/x.tar.zst");
        let root = S3Location::parse("s3://b").expect("url").expect("s3");
        assert_eq!(root.key("x.tar.zst").as_ref(), "x.tar.zst");
    }
}
