//! livehelp's one archive format, for backups, restores, tenant export and import, and
//! moving a deployment from SQLite to PostgreSQL (`docs/archive-format.md`).
//!
//! An archive is a tar file compressed with zstd (with zstd's content checksum). Its first
//! entry is `manifest.json` ([`Manifest`]: format version, livehelp version, creation
//! time, scope, and per part the table, its columns with their logical types, the row
//! count and the SHA-256 of the part's bytes); then one `tables/NNN-<table>.jsonl` part
//! per table, in foreign-key order, one JSON object per row. The rows come from and go to
//! a store through [`livehelp_store::ArchiveStore`], so the format knows nothing of SQL
//! and an archive from either backend restores into either.
//!
//! Reading is two passes: [`verify_archive`] checks every checksum, count and the zstd
//! frame before anything is written; [`import_archive`] runs it first and then streams
//! the rows into one store transaction (hashing them again, so a file changed between
//! the passes is refused too).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use livehelp_domain::TenantId;
use livehelp_store::StoreError;
use livehelp_store::archive::{
    ArchiveColumn, ArchiveScope, ArchiveSink, ArchiveSource, ArchiveStore, ArchiveTable,
    ColumnType, ImportMode, ImportSummary,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;
use time::OffsetDateTime;

/// The value of [`Manifest::format`]: says what this file is.
pub const FORMAT_NAME: &str = "livehelp-archive";

/// The archive format version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The manifest's entry name, always the first entry of the tar.
pub const MANIFEST_ENTRY: &str = "manifest.json";

/// The zstd level used when writing (zstd's default; fast, about 8x on chat text).
const ZSTD_LEVEL: i32 = 3;

/// Rows handed from the reader thread to the store at a time.
const READ_BATCH: usize = 500;

/// What can go wrong with an archive.
#[derive(Debug, Error)]
pub enum ArchiveError {
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The archive is damaged, truncated or not an archive; nothing was written.
    #[error("the archive is corrupt or truncated: {0}")]
    Corrupt(String),
    /// The archive is intact but cannot be used here (newer format, wrong scope).
    #[error("{0}")]
    Unusable(String),
    /// The store refused (target not empty, clashes, a database error); nothing was
    /// written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> ArchiveError {
    let context = context.into();
    move |source| ArchiveError::Io { context, source }
}

/// The scope recorded in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ManifestScope {
    /// The whole deployment.
    Platform,
    /// One tenant's data.
    Tenant {
        /// The tenant's id (UUID text).
        tenant_id: String,
    },
}

/// One column as recorded in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestColumn {
    /// Column name.
    pub name: String,
    /// Logical type: `uuid`, `bytes`, `text`, `json`, `int`, `bool` or `instant`.
    #[serde(rename = "type")]
    pub column_type: String,
}

/// One part (one table's rows) as recorded in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestPart {
    /// Entry name in the tar, `tables/NNN-<table>.jsonl`.
    pub path: String,
    /// The table.
    pub table: String,
    /// The table's columns, in order.
    pub columns: Vec<ManifestColumn>,
    /// Number of rows (lines) in the part.
    pub rows: u64,
    /// Size of the part in bytes (uncompressed).
    pub bytes: u64,
    /// SHA-256 of the part's bytes, lowercase hex.
    pub sha256: String,
}

/// The first entry of every archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The livehelp version that wrote it (`CARGO_PKG_VERSION`).
    pub livehelp_version: String,
    /// When the snapshot was taken, RFC 3339 UTC.
    pub created_at: String,
    /// Platform or one tenant.
    pub scope: ManifestScope,
    /// The parts in the order they follow the manifest (foreign-key order).
    pub parts: Vec<ManifestPart>,
}

impl Manifest {
    /// Total rows in all parts.
    pub fn total_rows(&self) -> u64 {
        self.parts.iter().map(|p| p.rows).sum()
    }

    /// Rows of one table (0 when absent).
    pub fn rows_of(&self, table: &str) -> u64 {
        self.parts
            .iter()
            .filter(|p| p.table == table)
            .map(|p| p.rows)
            .sum()
    }

    /// The tenant of a tenant archive.
    pub fn tenant(&self) -> Option<TenantId> {
        match &self.scope {
            ManifestScope::Platform => None,
            ManifestScope::Tenant { tenant_id } => tenant_id.parse().ok(),
        }
    }
}

/// Progress callback: the table being worked on and rows done so far in the whole run.
pub type Progress<'a> = &'a mut (dyn FnMut(&str, u64) + Send);

/// A writer that hashes and counts what goes through it.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct OpenPart {
    table: ArchiveTable,
    path: PathBuf,
    entry: String,
    writer: HashingWriter<BufWriter<File>>,
    rows: u64,
}

/// Writes each table's rows into its own temporary file while the store's snapshot is
/// open; the tar is assembled after, when every count and checksum is known.
struct PartSink<'a> {
    dir: PathBuf,
    open: Option<OpenPart>,
    done: Vec<(ManifestPart, PathBuf)>,
    total: u64,
    progress: Option<Progress<'a>>,
    line: Vec<u8>,
}

fn sink_error(error: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("writing the archive: {error}").into())
}

impl PartSink<'_> {
    fn close(&mut self) -> Result<(), StoreError> {
        let Some(mut part) = self.open.take() else {
            return Ok(());
        };
        part.writer.flush().map_err(sink_error)?;
        let sha256 = hex::encode(part.writer.hasher.finalize_reset());
        self.done.push((
            ManifestPart {
                path: part.entry,
                table: part.table.name.clone(),
                columns: part
                    .table
                    .columns
                    .iter()
                    .map(|c| ManifestColumn {
                        name: c.name.clone(),
                        column_type: c.column_type.as_str().to_owned(),
                    })
                    .collect(),
                rows: part.rows,
                bytes: part.writer.bytes,
                sha256,
            },
            part.path,
        ));
        Ok(())
    }
}

impl ArchiveSink for PartSink<'_> {
    fn begin_table(&mut self, table: &ArchiveTable) -> Result<(), StoreError> {
        self.close()?;
        let number = self.done.len() + 1;
        let entry = format!("tables/{number:03}-{}.jsonl", table.name);
        let path = self.dir.join(format!("{number:03}.jsonl"));
        let file = File::create(&path).map_err(sink_error)?;
        self.open = Some(OpenPart {
            table: table.clone(),
            path,
            entry,
            writer: HashingWriter {
                inner: BufWriter::with_capacity(1 << 16, file),
                hasher: Sha256::new(),
                bytes: 0,
            },
            rows: 0,
        });
        if let Some(progress) = self.progress.as_mut() {
            progress(&table.name, self.total);
        }
        Ok(())
    }

    fn row(&mut self, values: Vec<Value>) -> Result<(), StoreError> {
        let Some(part) = self.open.as_mut() else {
            return Err(sink_error("a row before any table"));
        };
        let mut object = serde_json::Map::with_capacity(values.len());
        for (column, value) in part.table.columns.iter().zip(values) {
            object.insert(column.name.clone(), value);
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, &Value::Object(object)).map_err(sink_error)?;
        self.line.push(b'\n');
        part.writer.write_all(&self.line).map_err(sink_error)?;
        part.rows += 1;
        self.total += 1;
        if self.total.is_multiple_of(1000)
            && let Some(progress) = self.progress.as_mut()
        {
            progress(&part.table.name, self.total);
        }
        Ok(())
    }
}

/// Takes a consistent snapshot of `scope` from `store` and writes it as an archive at
/// `dest` (written to `dest` + `.partial` and renamed when complete, so `dest` is
/// either a whole archive or absent). Returns the manifest written.
///
/// Errors: the store's (unreadable database) or the file system's.
pub async fn write_archive(
    store: &dyn ArchiveStore,
    scope: ArchiveScope,
    dest: &Path,
    progress: Progress<'_>,
) -> Result<Manifest, ArchiveError> {
    let mut writer = ArchiveWriter::create(dest)?;
    writer.sink.progress = Some(progress);
    store.export_archive(scope, &mut writer.sink).await?;
    writer.finish(scope)
}

/// An archive being written, for a caller that runs the export itself (the
/// application, which checks who may export first): hand [`ArchiveWriter::sink`] to
/// [`ArchiveStore::export_archive`], then [`ArchiveWriter::finish`].
pub struct ArchiveWriter<'a> {
    dir: tempfile::TempDir,
    dest: PathBuf,
    created_at: OffsetDateTime,
    sink: PartSink<'a>,
}

impl<'a> ArchiveWriter<'a> {
    /// Starts an archive that will be written at `dest` (its parts go to a work folder
    /// beside it meanwhile).
    pub fn create(dest: &Path) -> Result<ArchiveWriter<'a>, ArchiveError> {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = tempfile::Builder::new()
            .prefix(".livehelp-archive-")
            .tempdir_in(parent)
            .map_err(io_error(format!(
                "cannot create a work folder in {}",
                parent.display()
            )))?;
        let sink = PartSink {
            dir: dir.path().to_owned(),
            open: None,
            done: Vec::new(),
            total: 0,
            progress: None,
            line: Vec::new(),
        };
        Ok(ArchiveWriter {
            dir,
            dest: dest.to_owned(),
            created_at: OffsetDateTime::now_utc(),
            sink,
        })
    }

    /// Where the export writes its rows.
    pub fn sink(&mut self) -> &mut dyn ArchiveSink {
        &mut self.sink
    }

    /// Writes the manifest and the parts into the archive file and moves it into place.
    pub fn finish(mut self, scope: ArchiveScope) -> Result<Manifest, ArchiveError> {
        self.sink.close()?;
        let manifest = Manifest {
            format: FORMAT_NAME.to_owned(),
            format_version: FORMAT_VERSION,
            livehelp_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: self
                .created_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            scope: match scope {
                ArchiveScope::Platform => ManifestScope::Platform,
                ArchiveScope::Tenant(tenant) => ManifestScope::Tenant {
                    tenant_id: tenant.to_string(),
                },
            },
            parts: self
                .sink
                .done
                .iter()
                .map(|(part, _)| part.clone())
                .collect(),
        };
        let partial = PathBuf::from(format!("{}.partial", self.dest.display()));
        if let Err(e) = assemble(&manifest, &self.sink.done, &partial, self.created_at) {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        std::fs::rename(&partial, &self.dest).map_err(io_error(format!(
            "cannot move the archive into place at {}",
            self.dest.display()
        )))?;
        drop(self.dir);
        Ok(manifest)
    }
}

fn assemble(
    manifest: &Manifest,
    parts: &[(ManifestPart, PathBuf)],
    out: &Path,
    created_at: OffsetDateTime,
) -> Result<(), ArchiveError> {
    let context = format!("cannot write {}", out.display());
    let file = File::create(out).map_err(io_error(&context))?;
    let mut encoder =
        zstd::Encoder::new(BufWriter::new(file), ZSTD_LEVEL).map_err(io_error(&context))?;
    encoder.include_checksum(true).map_err(io_error(&context))?;
    let mut builder = tar::Builder::new(encoder);
    let mtime = u64::try_from(created_at.unix_timestamp()).unwrap_or(0);
    let manifest_bytes = serde_json::to_vec_pretty(manifest)
        .map_err(|e| ArchiveError::Unusable(format!("manifest: {e}")))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest_bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    builder
        .append_data(&mut header, MANIFEST_ENTRY, manifest_bytes.as_slice())
        .map_err(io_error(&context))?;
    for (part, path) in parts {
        let mut file = File::open(path).map_err(io_error(&context))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(part.bytes);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        builder
            .append_data(&mut header, &part.path, &mut file)
            .map_err(io_error(&context))?;
    }
    let encoder = builder.into_inner().map_err(io_error(&context))?;
    let writer = encoder.finish().map_err(io_error(&context))?;
    let file = writer.into_inner().map_err(|e| ArchiveError::Io {
        context: context.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io_error(&context))?;
    Ok(())
}

fn open_tar(
    path: &Path,
) -> Result<tar::Archive<zstd::Decoder<'static, BufReader<File>>>, ArchiveError> {
    let file = File::open(path).map_err(io_error(format!("cannot open {}", path.display())))?;
    let decoder = zstd::Decoder::new(file).map_err(|e| ArchiveError::Corrupt(e.to_string()))?;
    Ok(tar::Archive::new(decoder))
}

fn corrupt(error: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Corrupt(error.to_string())
}

fn read_manifest<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Manifest, ArchiveError> {
    let name = entry
        .path()
        .map_err(corrupt)?
        .to_string_lossy()
        .into_owned();
    if name != MANIFEST_ENTRY {
        return Err(corrupt(format!(
            "the first entry is {name:?}, not {MANIFEST_ENTRY}"
        )));
    }
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).map_err(corrupt)?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| corrupt(format!("{MANIFEST_ENTRY} is unreadable: {e}")))?;
    if manifest.format != FORMAT_NAME {
        return Err(corrupt(format!(
            "not a livehelp archive ({:?})",
            manifest.format
        )));
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(ArchiveError::Unusable(format!(
            "archive format version {} is newer than this livehelp reads ({FORMAT_VERSION}); use livehelp {} or newer",
            manifest.format_version, manifest.livehelp_version
        )));
    }
    for part in &manifest.parts {
        for column in &part.columns {
            if ColumnType::parse(&column.column_type).is_none() {
                return Err(ArchiveError::Unusable(format!(
                    "{}.{} has unknown type {:?}",
                    part.table, column.name, column.column_type
                )));
            }
        }
    }
    Ok(manifest)
}

fn check_part<R: Read>(
    part: &ManifestPart,
    reader: R,
    mut each_line: impl FnMut(&[u8]) -> Result<(), ArchiveError>,
) -> Result<(), ArchiveError> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut rows = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(corrupt)?;
        if n == 0 {
            break;
        }
        hasher.update(&line);
        bytes += n as u64;
        rows += 1;
        each_line(&line)?;
    }
    let sha256 = hex::encode(hasher.finalize());
    if bytes != part.bytes || rows != part.rows || sha256 != part.sha256 {
        return Err(corrupt(format!(
            "{} does not match the manifest ({rows} rows, {bytes} bytes, sha256 {sha256}; expected {} rows, {} bytes, sha256 {})",
            part.path, part.rows, part.bytes, part.sha256
        )));
    }
    Ok(())
}

/// Reads the whole archive at `path` and checks it: the zstd frame and its checksum, the
/// manifest, every part present in order with the recorded row count, size and SHA-256,
/// and nothing after the last part. Returns the manifest.
///
/// Errors: [`ArchiveError::Corrupt`] for a damaged or truncated file,
/// [`ArchiveError::Unusable`] for a newer format, [`ArchiveError::Io`] when it cannot be
/// opened.
pub fn verify_archive(path: &Path) -> Result<Manifest, ArchiveError> {
    walk(path, &mut |_| Ok(()))
}

/// What [`walk`] reports as it reads.
enum Walked<'a> {
    /// A part starts.
    Part(&'a ManifestPart),
    /// One line of the current part (not yet checksummed as a whole).
    Line(&'a ManifestPart, &'a [u8]),
}

fn walk(
    path: &Path,
    visit: &mut dyn FnMut(Walked<'_>) -> Result<(), ArchiveError>,
) -> Result<Manifest, ArchiveError> {
    let mut archive = open_tar(path)?;
    let manifest = {
        let mut entries = archive.entries().map_err(corrupt)?;
        let mut first = entries
            .next()
            .ok_or_else(|| corrupt("the archive is empty"))?
            .map_err(corrupt)?;
        let manifest = read_manifest(&mut first)?;
        drop(first);
        for part in &manifest.parts {
            let entry = entries
                .next()
                .ok_or_else(|| corrupt(format!("{} is missing", part.path)))?
                .map_err(corrupt)?;
            let name = entry
                .path()
                .map_err(corrupt)?
                .to_string_lossy()
                .into_owned();
            if name != part.path {
                return Err(corrupt(format!(
                    "expected {} but found {name:?}",
                    part.path
                )));
            }
            visit(Walked::Part(part))?;
            check_part(part, entry, |line| visit(Walked::Line(part, line)))?;
        }
        if let Some(extra) = entries.next() {
            let name = extra
                .map_err(corrupt)?
                .path()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            return Err(corrupt(format!(
                "unexpected entry {name:?} after the last part"
            )));
        }
        manifest
    };
    // Read the compressed stream to its end so zstd checks its content checksum.
    let mut decoder = archive.into_inner();
    io::copy(&mut decoder, &mut io::sink()).map_err(corrupt)?;
    Ok(manifest)
}

/// Reads the manifest only (the first entry), without checking the parts.
pub fn read_manifest_only(path: &Path) -> Result<Manifest, ArchiveError> {
    let mut archive = open_tar(path)?;
    let mut entries = archive.entries().map_err(corrupt)?;
    let mut first = entries
        .next()
        .ok_or_else(|| corrupt("the archive is empty"))?
        .map_err(corrupt)?;
    read_manifest(&mut first)
}

enum Feed {
    Table(ArchiveTable),
    Rows(Vec<Vec<Value>>),
    Failed(String),
}

fn feed_error(message: String) -> StoreError {
    StoreError::Other(Box::new(ArchiveReadFailed(message)))
}

/// The archive went bad between verification and import; carried in a
/// [`StoreError::Other`].
#[derive(Debug)]
struct ArchiveReadFailed(String);

impl std::fmt::Display for ArchiveReadFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the archive is corrupt or truncated: {}", self.0)
    }
}

impl std::error::Error for ArchiveReadFailed {}

fn archive_table(part: &ManifestPart) -> ArchiveTable {
    ArchiveTable {
        name: part.table.clone(),
        columns: part
            .columns
            .iter()
            .map(|c| ArchiveColumn {
                name: c.name.clone(),
                column_type: ColumnType::parse(&c.column_type).unwrap_or(ColumnType::Text),
            })
            .collect(),
    }
}

fn parse_row(part: &ManifestPart, line: &[u8]) -> Result<Vec<Value>, ArchiveError> {
    let value: Value = serde_json::from_slice(line)
        .map_err(|e| corrupt(format!("{}: a row is not JSON: {e}", part.path)))?;
    let Value::Object(mut object) = value else {
        return Err(corrupt(format!(
            "{}: a row is not a JSON object",
            part.path
        )));
    };
    part.columns
        .iter()
        .map(|c| {
            object
                .remove(&c.name)
                .ok_or_else(|| corrupt(format!("{}: a row lacks {}", part.path, c.name)))
        })
        .collect()
}

/// Reads the archive on its own thread (decompression and JSON parsing overlap the
/// database writes) and sends a `Table` per part with its rows after it.
fn spawn_reader(path: PathBuf, sender: mpsc::SyncSender<Feed>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(READ_BATCH);
        let result = walk(&path, &mut |walked| {
            match walked {
                Walked::Part(part) => {
                    if !batch.is_empty() {
                        let _ = sender.send(Feed::Rows(std::mem::take(&mut batch)));
                    }
                    let _ = sender.send(Feed::Table(archive_table(part)));
                }
                Walked::Line(part, line) => {
                    batch.push(parse_row(part, line)?);
                    if batch.len() == READ_BATCH {
                        let _ = sender.send(Feed::Rows(std::mem::take(&mut batch)));
                    }
                }
            }
            Ok(())
        });
        match result {
            Ok(_) => {
                if !batch.is_empty() {
                    let _ = sender.send(Feed::Rows(batch));
                }
            }
            Err(e) => {
                let _ = sender.send(Feed::Failed(e.to_string()));
            }
        }
    })
}

/// The [`ArchiveSource`] over the reader thread's stream: rows are handed out for the
/// current table only, and a table ends where the next one starts or the stream ends.
struct ChannelSource<'p> {
    receiver: mpsc::Receiver<Feed>,
    pending: std::collections::VecDeque<Vec<Value>>,
    lookahead: Option<ArchiveTable>,
    finished: bool,
    table: String,
    total: u64,
    progress: Progress<'p>,
    /// A tenant import's tenant (uuid text) and the owner column of the current table:
    /// every table must be tenant data and every row that tenant's, or the import stops.
    tenant: Option<(String, Option<usize>)>,
}

impl ChannelSource<'_> {
    fn receive(&mut self) -> Result<(), StoreError> {
        match self.receiver.recv() {
            Ok(Feed::Rows(rows)) => self.pending.extend(rows),
            Ok(Feed::Table(table)) => self.lookahead = Some(table),
            Ok(Feed::Failed(message)) => return Err(feed_error(message)),
            Err(_) => self.finished = true,
        }
        Ok(())
    }
}

impl ArchiveSource for ChannelSource<'_> {
    fn next_table(&mut self) -> Result<Option<ArchiveTable>, StoreError> {
        // Skip whatever the store did not read of the current table.
        self.pending.clear();
        while self.lookahead.is_none() && !self.finished {
            self.receive()?;
            self.pending.clear();
        }
        let table = self.lookahead.take();
        if let Some(table) = &table {
            if let Some((_, owner)) = &mut self.tenant {
                *owner = table.owner_column();
                if owner.is_none() {
                    return Err(StoreError::Other(
                        format!(
                            "this tenant archive carries `{}`, which is platform data: refused, nothing was imported",
                            table.name
                        )
                        .into(),
                    ));
                }
            }
            self.table = table.name.clone();
            (self.progress)(&self.table, self.total);
        }
        Ok(table)
    }

    fn next_rows(&mut self, max: usize) -> Result<Vec<Vec<Value>>, StoreError> {
        while self.pending.len() < max && self.lookahead.is_none() && !self.finished {
            self.receive()?;
        }
        let n = max.min(self.pending.len());
        if let Some((tenant, Some(owner))) = &self.tenant
            && let Some(row) = self.pending.iter().take(n).find(|row| {
                row.get(*owner)
                    .and_then(Value::as_str)
                    .is_none_or(|id| !id.eq_ignore_ascii_case(tenant))
            })
        {
            return Err(StoreError::Other(
                format!(
                    "a row of `{}` in this tenant archive belongs to another tenant ({}): refused, nothing was imported",
                    self.table,
                    row.get(*owner).unwrap_or(&Value::Null)
                )
                .into(),
            ));
        }
        self.total += n as u64;
        (self.progress)(&self.table, self.total);
        Ok(self.pending.drain(..n).collect())
    }
}

/// Verifies the archive at `path` completely, then writes its rows into `store` in one
/// transaction ([`ImportMode::IntoEmpty`] for a restore, [`ImportMode::AddTenant`] for a
/// tenant import, which needs a tenant archive). Nothing is written unless the archive is
/// intact and the store accepts every row; the rows are hashed again while they are
/// written, so a file changed after the verification is refused too. Returns the
/// manifest and what was written.
pub async fn import_archive(
    store: &dyn ArchiveStore,
    path: &Path,
    mode: ImportMode,
    progress: Progress<'_>,
) -> Result<(Manifest, ImportSummary), ArchiveError> {
    let manifest = verify_archive(path)?;
    import_verified(store, path, &manifest, mode, progress).await
}

/// [`import_archive`] for a caller that has just run [`verify_archive`] itself and got
/// `manifest` (the rows are still hashed again while they are written).
pub async fn import_verified(
    store: &dyn ArchiveStore,
    path: &Path,
    manifest: &Manifest,
    mode: ImportMode,
    progress: Progress<'_>,
) -> Result<(Manifest, ImportSummary), ArchiveError> {
    if mode == ImportMode::AddTenant && manifest.tenant().is_none() {
        return Err(ArchiveError::Unusable(
            "this is a platform archive; `tenant import` takes a tenant archive (`livehelp tenant export`); restore a platform archive with `livehelp restore` into an empty deployment".into(),
        ));
    }
    let (sender, receiver) = mpsc::sync_channel::<Feed>(8);
    let reader = spawn_reader(path.to_owned(), sender);
    let mut source = ChannelSource {
        receiver,
        pending: Default::default(),
        lookahead: None,
        finished: false,
        table: String::new(),
        total: 0,
        progress,
        tenant: match mode {
            ImportMode::AddTenant => manifest
                .tenant()
                .map(|tenant| (tenant.as_uuid().to_string(), None)),
            ImportMode::IntoEmpty => None,
        },
    };
    let result = store.import_archive(mode, &mut source).await;
    // Unblock the reader if the store stopped early, then wait for it.
    drop(source);
    let _ = reader.join();
    let summary = result?;
    Ok((manifest.clone(), summary))
}
