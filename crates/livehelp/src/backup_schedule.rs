//! Scheduled backups inside `livehelp serve` (`--backup-daily-at HH:MM --backup-to DEST
//! --backup-keep N`): at the given UTC time every day, a platform archive is written into
//! DEST (a folder), retried on failure, the oldest archives beyond the last N are deleted,
//! every outcome is logged, and the last success time and the failures are on `/metrics`
//! (`livehelp_backup_last_success_timestamp_seconds`, `livehelp_backup_failures_total`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use livehelp_server::BackupMetrics;
use livehelp_store::Store;
use livehelp_store::archive::{ArchiveScope, ArchiveStore};
use time::OffsetDateTime;

use crate::offsite::{self, Destination};

/// When backups run.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// Every day at this UTC time of day.
    DailyAt(time::Time),
    /// Every so often from the start (for tests and drills; hidden flag).
    Every(Duration),
}

/// A backup schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Where the archives go: a folder or an S3-compatible store.
    pub dest: Destination,
    /// When.
    pub when: When,
    /// How many archives to keep (the oldest beyond this are deleted); at least 1.
    pub keep: usize,
}

/// Attempts per scheduled backup before it is reported failed.
const ATTEMPTS: u32 = 3;

/// Parses `HH:MM` (24-hour, UTC).
pub fn parse_time_of_day(text: &str) -> anyhow::Result<time::Time> {
    let (hours, minutes) = text
        .split_once(':')
        .with_context(|| format!("--backup-daily-at {text:?}: use HH:MM (UTC), e.g. 03:00"))?;
    let hours: u8 = hours
        .parse()
        .with_context(|| format!("--backup-daily-at {text:?}: hour"))?;
    let minutes: u8 = minutes
        .parse()
        .with_context(|| format!("--backup-daily-at {text:?}: minute"))?;
    time::Time::from_hms(hours, minutes, 0)
        .with_context(|| format!("--backup-daily-at {text:?}: not a time of day"))
}

/// How long from `now` until the next run.
fn next_delay(now: OffsetDateTime, when: When) -> Duration {
    match when {
        When::Every(every) => every,
        When::DailyAt(at) => {
            let now = now.to_offset(time::UtcOffset::UTC);
            let mut next = now.replace_time(at);
            if next <= now {
                next += time::Duration::days(1);
            }
            Duration::try_from(next - now).unwrap_or(Duration::from_secs(60))
        }
    }
}

/// Starts the scheduler on the current runtime; it runs until the process ends.
pub fn spawn(store: Arc<dyn Store>, schedule: Schedule, metrics: BackupMetrics) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(next_delay(OffsetDateTime::now_utc(), schedule.when)).await;
            run_once(&*store, &schedule, &metrics).await;
        }
    });
}

async fn run_once(store: &dyn Store, schedule: &Schedule, metrics: &BackupMetrics) {
    for attempt in 1..=ATTEMPTS {
        match backup_into(store, &schedule.dest).await {
            Ok((written, rows)) => {
                let now = OffsetDateTime::now_utc();
                metrics.record_success(now.unix_timestamp());
                tracing::info!(archive = %written, rows, attempt, "scheduled backup written");
                match prune_dest(&schedule.dest, schedule.keep).await {
                    Ok(deleted) => {
                        for old in deleted {
                            tracing::info!(archive = %old, keep = schedule.keep, "old backup deleted");
                        }
                    }
                    Err(error) => {
                        tracing::error!(error = %format!("{error:#}"), "cannot delete old backups");
                    }
                }
                return;
            }
            Err(error) => {
                tracing::warn!(attempt, attempts = ATTEMPTS, error = %format!("{error:#}"), "scheduled backup failed");
                if attempt < ATTEMPTS {
                    tokio::time::sleep(Duration::from_secs(u64::from(attempt) * 2)).await;
                }
            }
        }
    }
    metrics.record_failure();
    tracing::error!(
        dest = %schedule.dest,
        attempts = ATTEMPTS,
        "scheduled backup FAILED: no backup was taken this time"
    );
}

/// Writes one platform archive into `dest`; returns where it went and its row count.
async fn backup_into(store: &dyn Store, dest: &Destination) -> anyhow::Result<(String, u64)> {
    let name = crate::archive_cli::backup_file_name(OffsetDateTime::now_utc());
    match dest {
        Destination::Folder(folder) => {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("cannot create the backup folder {}", folder.display()))?;
            let file = folder.join(name);
            let rows = write_platform_archive(store, &file).await?;
            Ok((file.display().to_string(), rows))
        }
        Destination::S3(location) => {
            let client = location.client()?;
            let temp = tempfile::Builder::new()
                .prefix("livehelp-backup-")
                .suffix(".tar.zst")
                .tempfile()
                .context("cannot create a temporary file for the backup")?
                .into_temp_path();
            let rows = write_platform_archive(store, &temp).await?;
            let key = location.key(&name);
            offsite::upload(&*client, &temp, &key)
                .await
                .with_context(|| format!("cannot upload the backup to {location}"))?;
            Ok((format!("s3://{}/{key}", location.bucket), rows))
        }
    }
}

async fn write_platform_archive(store: &dyn Store, file: &Path) -> anyhow::Result<u64> {
    let mut quiet = |_: &str, _: u64| {};
    let manifest = livehelp_archive::write_archive(
        store as &dyn ArchiveStore,
        ArchiveScope::Platform,
        file,
        &mut quiet,
    )
    .await
    .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(manifest.total_rows())
}

async fn prune_dest(dest: &Destination, keep: usize) -> anyhow::Result<Vec<String>> {
    match dest {
        Destination::Folder(folder) => Ok(prune(folder, keep)?
            .into_iter()
            .map(|path| path.display().to_string())
            .collect()),
        Destination::S3(location) => {
            let client = location.client()?;
            Ok(offsite::prune(&*client, location, keep)
                .await?
                .into_iter()
                .map(|key| format!("s3://{}/{key}", location.bucket))
                .collect())
        }
    }
}

/// Deletes the oldest backups in `dest` (by their dated names) beyond the newest `keep`;
/// returns what it deleted.
pub fn prune(dest: &Path, keep: usize) -> anyhow::Result<Vec<PathBuf>> {
    let mut archives: Vec<PathBuf> = std::fs::read_dir(dest)
        .with_context(|| format!("cannot list {}", dest.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(offsite::is_backup_name)
        })
        .collect();
    archives.sort();
    let excess = archives.len().saturating_sub(keep.max(1));
    let mut deleted = Vec::new();
    for old in archives.into_iter().take(excess) {
        std::fs::remove_file(&old).with_context(|| format!("cannot delete {}", old.display()))?;
        deleted.push(old);
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_next_daily_run_is_today_or_tomorrow() {
        let at = time::Time::from_hms(3, 0, 0).expect("time");
        assert_eq!(
            next_delay(datetime!(2026-12-02 01:30 UTC), When::DailyAt(at)),
            Duration::from_secs(90 * 60)
        );
        assert_eq!(
            next_delay(datetime!(2026-12-02 03:00 UTC), When::DailyAt(at)),
            Duration::from_secs(24 * 3600)
        );
    }

    #[test]
    fn times_of_day_parse() {
        assert_eq!(
            parse_time_of_day("03:15").expect("time"),
            time::Time::from_hms(3, 15, 0).expect("time")
        );
        assert!(parse_time_of_day("25:00").is_err());
        assert!(parse_time_of_day("3pm").is_err());
    }
}
