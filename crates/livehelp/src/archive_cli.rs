//! The archive commands (`docs/operations.md`): `livehelp backup --to DEST`,
//! `livehelp backup verify ARCHIVE`, `livehelp restore --from ARCHIVE`,
//! `livehelp tenant export TENANT --to FILE` and `livehelp tenant import FILE`. The
//! format is `livehelp-archive`'s; this module opens the store, names the files and shows
//! progress (a bar on a terminal, nothing otherwise).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use livehelp_archive::{ArchiveError, Manifest, import_verified, verify_archive, write_archive};
use livehelp_domain::TenantId;
use livehelp_store::archive::{ArchiveScope, ArchiveStore, ImportMode};
use time::OffsetDateTime;

use crate::backends;
use crate::config::Config;
use crate::offsite::{self, Destination};

/// `livehelp backup ...` subcommands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Check an archive completely (every checksum, count and the compression frame)
    /// without restoring it. Exits non-zero when it is damaged.
    Verify {
        /// The archive: a file, or `s3://BUCKET/KEY` (downloaded to a temporary file first).
        archive: String,
    },
}

/// The file name of a backup taken at `at`:
/// `livehelp-backup-20261202T031500.123Z.tar.zst` (UTC, milliseconds; names sort by time).
pub fn backup_file_name(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "livehelp-backup-{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z.tar.zst",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

fn bar(total: Option<u64>, verb: &str) -> ProgressBar {
    let bar = match total {
        Some(total) => ProgressBar::new(total),
        None => ProgressBar::new_spinner(),
    };
    let template = match total {
        Some(_) => format!("{verb} {{msg:24}} [{{bar:30}}] {{pos}}/{{len}} rows ({{eta}})"),
        None => format!("{verb} {{msg:24}} {{spinner}} {{pos}} rows"),
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Writes a platform (or tenant) archive of the configured database to `file`.
pub async fn write_to_file(
    config: &Config,
    scope: ArchiveScope,
    file: &Path,
) -> anyhow::Result<Manifest> {
    backends::require_existing_database(config)?;
    let store = backends::open_store(config).await?;
    let progress = bar(None, "backup");
    let mut report = |table: &str, rows: u64| {
        progress.set_message(table.to_owned());
        progress.set_position(rows);
    };
    let manifest = write_archive(&*store as &dyn ArchiveStore, scope, file, &mut report)
        .await
        .with_context(|| format!("cannot write the archive {}", file.display()))?;
    progress.finish_and_clear();
    Ok(manifest)
}

/// `livehelp backup --to DEST`: DEST is a folder (created if missing; the archive gets a
/// dated name), a file name ending in `.tar.zst`, or `s3://BUCKET/PREFIX` (the archive is
/// written to a temporary file, then uploaded under PREFIX with a dated name). Prints
/// where the archive went and returns it.
pub async fn backup(config: &Config, to: &str) -> anyhow::Result<String> {
    let folder = match Destination::parse(to)? {
        Destination::Folder(folder) => folder,
        Destination::S3(location) => {
            let client = location.client()?;
            let temp = tempfile::Builder::new()
                .prefix("livehelp-backup-")
                .suffix(".tar.zst")
                .tempfile()
                .context("cannot create a temporary file for the backup")?
                .into_temp_path();
            let manifest = write_to_file(config, ArchiveScope::Platform, &temp).await?;
            let key = location.key(&backup_file_name(OffsetDateTime::now_utc()));
            let bytes = offsite::upload(&*client, &temp, &key)
                .await
                .with_context(|| format!("cannot upload the backup to {location}"))?;
            let url = format!("s3://{}/{key}", location.bucket);
            println!(
                "backup uploaded to {url} ({} rows in {} tables, {bytes} bytes)",
                manifest.total_rows(),
                manifest.parts.len()
            );
            return Ok(url);
        }
    };
    let file = if to.ends_with(".tar.zst") && !folder.is_dir() {
        folder
    } else {
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("cannot create the backup folder {}", folder.display()))?;
        folder.join(backup_file_name(OffsetDateTime::now_utc()))
    };
    let manifest = write_to_file(config, ArchiveScope::Platform, &file).await?;
    println!(
        "backup written to {} ({} rows in {} tables)",
        file.display(),
        manifest.total_rows(),
        manifest.parts.len()
    );
    Ok(file.display().to_string())
}

/// A local copy of `archive`: the file itself, or an `s3://BUCKET/KEY` downloaded into a
/// temporary file (deleted when the returned guard is dropped).
async fn local_copy(archive: &str) -> anyhow::Result<(PathBuf, Option<tempfile::TempPath>)> {
    if archive.starts_with("s3://") {
        let temp = offsite::download(archive).await?;
        Ok((temp.to_path_buf(), Some(temp)))
    } else {
        Ok((PathBuf::from(archive), None))
    }
}

/// `livehelp backup verify ARCHIVE` where ARCHIVE is a file or `s3://BUCKET/KEY`.
pub async fn verify_from(archive: &str) -> anyhow::Result<()> {
    let (file, _temp) = local_copy(archive).await?;
    verify(&file)
}

/// `livehelp restore --from ARCHIVE` where ARCHIVE is a file or `s3://BUCKET/KEY`.
pub async fn import_from(config: &Config, archive: &str, mode: ImportMode) -> anyhow::Result<()> {
    let (file, _temp) = local_copy(archive).await?;
    import(config, &file, mode).await
}

fn explain(error: ArchiveError, archive: &Path) -> anyhow::Error {
    anyhow::Error::new(error).context(format!("archive {}", archive.display()))
}

/// `livehelp backup verify ARCHIVE`.
pub fn verify(archive: &Path) -> anyhow::Result<()> {
    let manifest = verify_archive(archive).map_err(|e| explain(e, archive))?;
    println!(
        "archive {} is intact: format {}, livehelp {}, created {}, {}, {} rows in {} tables",
        archive.display(),
        manifest.format_version,
        manifest.livehelp_version,
        manifest.created_at,
        scope_text(&manifest),
        manifest.total_rows(),
        manifest.parts.len()
    );
    Ok(())
}

fn scope_text(manifest: &Manifest) -> String {
    match manifest.tenant() {
        Some(tenant) => format!("tenant {tenant}"),
        None => "whole platform".to_owned(),
    }
}

/// `livehelp restore --from ARCHIVE` (mode `IntoEmpty`) and `livehelp tenant import FILE`
/// (mode `AddTenant`). The archive is verified completely before the database is even
/// opened, so a damaged archive leaves the target exactly as it was.
pub async fn import(config: &Config, archive: &Path, mode: ImportMode) -> anyhow::Result<()> {
    let manifest = verify_archive(archive).map_err(|e| explain(e, archive))?;
    if mode == ImportMode::AddTenant && manifest.tenant().is_none() {
        bail!(
            "{} is a platform archive; `tenant import` takes a tenant archive from `livehelp tenant export`, and a platform archive restores with `livehelp restore` into an empty deployment",
            archive.display()
        );
    }
    let store = backends::open_store(config).await?;
    let progress = bar(Some(manifest.total_rows()), "restore");
    let mut report = |table: &str, rows: u64| {
        progress.set_message(table.to_owned());
        progress.set_position(rows);
    };
    let imported = import_verified(
        &*store as &dyn ArchiveStore,
        archive,
        &manifest,
        mode,
        &mut report,
    )
    .await;
    // Closing checkpoints the WAL into the database file (SQLite), so the restored data
    // is in the main file, not only in `-wal` beside it.
    store.close().await;
    let (_, summary) = imported.map_err(|e| explain(e, archive))?;
    progress.finish_and_clear();
    let rows: u64 = summary.rows.iter().map(|(_, n)| n).sum();
    let what = match mode {
        ImportMode::IntoEmpty => "restored",
        ImportMode::AddTenant => "imported",
    };
    println!(
        "{what} {} from {} (created {}): {rows} rows in {} tables",
        scope_text(&manifest),
        archive.display(),
        manifest.created_at,
        summary.rows.len()
    );
    Ok(())
}

/// `livehelp tenant export TENANT --to FILE`.
pub async fn tenant_export(config: &Config, tenant: TenantId, to: &Path) -> anyhow::Result<()> {
    let store = backends::open_store(config).await?;
    store
        .fetch_tenant(tenant)
        .await
        .with_context(|| format!("no tenant {tenant} (see `livehelp tenant list`)"))?;
    drop(store);
    let manifest = write_to_file(config, ArchiveScope::Tenant(tenant), to).await?;
    println!(
        "tenant {tenant} exported to {} ({} rows in {} tables)",
        to.display(),
        manifest.total_rows(),
        manifest.parts.len()
    );
    Ok(())
}
