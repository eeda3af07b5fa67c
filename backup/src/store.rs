//! Targets by URL: `file:///path` (the embedded default), `s3://bucket/prefix`,
//! `gs://bucket/prefix`, `az://container/prefix`. Credentials come from the
//! environment (object_store's `from_env`), endpoint/region/allow_http/retries from
//! [`TargetOptions`]. Retries are bounded (default: 3 retries over at most 30 s) — the
//! library default retries for minutes. object_store retries 5xx/429 answers, connect
//! errors, and (requests being idempotent) connections lost mid-request; a download cut
//! mid-body is resumed with a range request. What it cannot see — a body that arrives
//! complete by its Content-Length but shorter or longer than the manifest lists — is
//! read again by [`Target::get_exact`] within the same retry budget.

use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::{Error, Result};

/// Settings for remote targets.
#[derive(Clone, Debug, Default)]
pub struct TargetOptions {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub allow_http: bool,
    pub max_retries: Option<usize>,
    pub retry_timeout: Option<Duration>,
}

/// An opened target: a store and the prefix everything lives under.
#[derive(Clone)]
pub struct Target {
    pub url: String,
    pub store: Arc<dyn ObjectStore>,
    pub prefix: ObjPath,
    /// Re-reads allowed for an object that arrives with the wrong length.
    pub retries: usize,
    pub backoff: Duration,
}

/// Retries when `[backup] max_retries` is not set.
pub const DEFAULT_RETRIES: usize = 3;
/// The longest retrying goes on when `[backup] retry_timeout` is not set.
pub const DEFAULT_RETRY_TIMEOUT: Duration = Duration::from_secs(30);

fn retry(o: &TargetOptions) -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: o.max_retries.unwrap_or(DEFAULT_RETRIES),
        retry_timeout: o.retry_timeout.unwrap_or(DEFAULT_RETRY_TIMEOUT),
        backoff: object_store::BackoffConfig {
            init_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            base: 2.0,
        },
    }
}

impl Target {
    /// Opens the target named by `url`.
    pub fn open(url: &str, o: &TargetOptions) -> Result<Target> {
        let bad = |reason: String| Error::Target {
            url: url.to_string(),
            reason,
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("expected file:///path, s3://bucket/prefix, gs://bucket/prefix or az://container/prefix".into()))?;
        if scheme == "file" {
            let dir = std::path::Path::new(rest);
            if !dir.is_absolute() {
                return Err(bad(
                    "file:// needs an absolute path (file:///var/backups/rast)".into(),
                ));
            }
            std::fs::create_dir_all(dir).map_err(|e| bad(e.to_string()))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| bad(e.to_string()))?;
            return Ok(Target {
                url: url.to_string(),
                store: Arc::new(store),
                prefix: ObjPath::default(),
                retries: o.max_retries.unwrap_or(DEFAULT_RETRIES),
                backoff: Duration::from_millis(100),
            });
        }
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("missing bucket or container name".into()));
        }
        let store: Arc<dyn ObjectStore> = match scheme {
            "s3" => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_allow_http(o.allow_http)
                    // Chunks are AEAD-sealed and their ciphertext SHA-256 is in the
                    // manifest, so SigV4 payload signing (another full SHA-256 pass
                    // over every byte, on both ends) adds no protection here.
                    .with_unsigned_payload(true)
                    .with_retry(retry(o));
                if let Some(e) = &o.endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(r) = &o.region {
                    b = b.with_region(r);
                }
                Arc::new(b.build().map_err(|e| bad(e.to_string()))?)
            }
            "gs" => {
                // The endpoint of a GCS-compatible server comes from the service
                // account file (`gcs_base_url`), as object_store reads it.
                let b = object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(bucket)
                    .with_client_options(
                        object_store::ClientOptions::new().with_allow_http(o.allow_http),
                    )
                    .with_retry(retry(o));
                Arc::new(b.build().map_err(|e| bad(e.to_string()))?)
            }
            "az" => {
                let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_container_name(bucket)
                    .with_allow_http(o.allow_http)
                    .with_retry(retry(o));
                if let Some(e) = &o.endpoint {
                    b = b.with_endpoint(e.clone());
                }
                Arc::new(b.build().map_err(|e| bad(e.to_string()))?)
            }
            other => return Err(bad(format!("unknown scheme {other}://"))),
        };
        Ok(Target {
            url: url.to_string(),
            store,
            prefix: ObjPath::from(prefix.trim_matches('/')),
            retries: o.max_retries.unwrap_or(DEFAULT_RETRIES),
            backoff: Duration::from_millis(100),
        })
    }

    pub fn path(&self, name: &str) -> ObjPath {
        if self.prefix.as_ref().is_empty() {
            ObjPath::from(name)
        } else {
            ObjPath::from(format!("{}/{name}", self.prefix))
        }
    }

    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(&self.path(name), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    pub async fn get(&self, name: &str) -> Result<Option<bytes::Bytes>> {
        match self.store.get(&self.path(name)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads object `name` into `buf` (cleared first, its capacity reused: no fresh
    /// allocation to fault in per object), keeping at most `max + 1` bytes — enough for
    /// a caller that expects `max` to see that the object is longer without storing it.
    /// `None` if there is no such object.
    pub async fn get_into(
        &self,
        name: &str,
        mut buf: Vec<u8>,
        max: u64,
    ) -> Result<Option<Vec<u8>>> {
        use futures::TryStreamExt;
        let r = match self.store.get(&self.path(name)).await {
            Ok(r) => r,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        buf.clear();
        let keep = max.saturating_add(1);
        // The expected length, exactly: a doubling Vec would hold up to twice that.
        buf.reserve_exact(usize::try_from(max.min(r.range.end - r.range.start)).unwrap_or(0));
        match r.payload {
            // A local file: read it in one go on a blocking thread (the generic stream
            // would read it 8 KiB per blocking task).
            object_store::GetResultPayload::File(mut file, path) => {
                let start = r.range.start;
                let len = (r.range.end - start).min(keep);
                tokio::task::spawn_blocking(move || {
                    use std::io::{Read, Seek};
                    file.seek(std::io::SeekFrom::Start(start))
                        .and_then(|_| file.take(len).read_to_end(&mut buf))
                        .map(|_| Some(buf))
                        .map_err(|source| Error::Io {
                            path: path.display().to_string(),
                            source,
                        })
                })
                .await
                .map_err(|e| Error::Store(e.to_string()))?
            }
            object_store::GetResultPayload::Stream(mut body) => {
                while let Some(b) = body.try_next().await? {
                    let room = keep.saturating_sub(buf.len() as u64);
                    buf.extend_from_slice(&b[..b.len().min(room as usize)]);
                    if buf.len() as u64 == keep {
                        break;
                    }
                }
                Ok(Some(buf))
            }
        }
    }

    /// [`Target::get_into`] for an object whose length is known to be `len`: one that
    /// arrives with another length is read again, up to [`Target::retries`] times with
    /// doubling pauses (a short read from a misbehaving server or cache is transient;
    /// the manifest's length is the truth). Returns the last read, so a caller that
    /// still sees the wrong length reports the object as damaged.
    pub async fn get_exact(&self, name: &str, buf: Vec<u8>, len: u64) -> Result<Option<Vec<u8>>> {
        let mut pause = self.backoff;
        let mut got = self.get_into(name, buf, len).await?;
        for _ in 0..self.retries {
            match got {
                Some(b) if b.len() as u64 != len => {
                    tracing::warn!(
                        "{name}: read {} bytes, the manifest lists {len}; reading it again",
                        b.len()
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                    got = self.get_into(name, b, len).await?;
                }
                _ => break,
            }
        }
        Ok(got)
    }

    pub async fn delete(&self, name: &str) -> Result<()> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object name (relative to the prefix) with its size.
    pub async fn list(&self) -> Result<Vec<(String, u64)>> {
        let prefix = (!self.prefix.as_ref().is_empty()).then(|| self.prefix.clone());
        self.list_in(prefix).await
    }

    /// The objects under `dir/` (e.g. one backup's), named as [`Target::list`] does.
    pub async fn list_under(&self, dir: &str) -> Result<Vec<(String, u64)>> {
        self.list_in(Some(self.path(dir))).await
    }

    async fn list_in(&self, prefix: Option<ObjPath>) -> Result<Vec<(String, u64)>> {
        use futures::TryStreamExt;
        let metas: Vec<_> = self.store.list(prefix.as_ref()).try_collect().await?;
        let strip = if self.prefix.as_ref().is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        Ok(metas
            .into_iter()
            .map(|m| {
                (
                    m.location
                        .as_ref()
                        .strip_prefix(&strip)
                        .unwrap_or(m.location.as_ref())
                        .to_string(),
                    m.size,
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn get_into_reuses_the_buffer_and_stops_one_byte_past_max() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let t = Target::open(&url, &TargetOptions::default()).unwrap();
        let body: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        t.put("x/chunk", body.clone()).await.unwrap();

        let mut buf = Vec::with_capacity(200_000);
        buf.extend_from_slice(b"stale");
        let at = buf.as_ptr();
        let got = t.get_into("x/chunk", buf, 100_000).await.unwrap().unwrap();
        assert!(got == body);
        assert_eq!(got.as_ptr(), at, "read into the given buffer");

        let cut = t.get_into("x/chunk", got, 10).await.unwrap().unwrap();
        assert_eq!(cut, body[..11], "max + 1 bytes: enough to see it is longer");
        assert!(t.get_into("x/none", cut, 10).await.unwrap().is_none());
    }
}
