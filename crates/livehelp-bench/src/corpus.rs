//! Real dialogue text: the PyPI package `chatterbot-corpus==1.3.3` (BSD-3; YAML dialogues
//! in 28 languages, Hebrew, Persian, Chinese, Tamil and more). `fetch_corpus.py` (run with
//! `python3`) downloads it with `pip download --no-deps`, unzips it and writes the
//! dialogues as JSON, cached under `target/bench-data/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde::Deserialize;

/// The fetch script, embedded so the binary needs no source tree to fetch.
const FETCH_SCRIPT: &str = include_str!("fetch_corpus.py");

/// Dialogues, each a list of alternating lines (visitor first).
pub struct Dialogues {
    dialogues: Vec<Vec<String>>,
    /// Languages present, for the report.
    pub languages: usize,
}

#[derive(Deserialize)]
struct CorpusFile {
    dialogues: Vec<CorpusDialogue>,
}

#[derive(Deserialize)]
struct CorpusDialogue {
    language: String,
    lines: Vec<String>,
}

impl Dialogues {
    /// Fetches (once) and loads the corpus from `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Dialogues> {
        let path = fetch(dir)?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let file: CorpusFile = serde_json::from_str(&text)?;
        let mut languages: Vec<&str> = file
            .dialogues
            .iter()
            .map(|dialogue| dialogue.language.as_str())
            .collect();
        languages.sort_unstable();
        languages.dedup();
        let languages = languages.len();
        let dialogues: Vec<Vec<String>> = file
            .dialogues
            .into_iter()
            .map(|dialogue| dialogue.lines)
            .filter(|lines| lines.len() >= 2)
            .collect();
        if dialogues.is_empty() {
            bail!("{} holds no dialogue", path.display());
        }
        Ok(Dialogues {
            dialogues,
            languages,
        })
    }

    /// How many dialogues.
    pub fn len(&self) -> usize {
        self.dialogues.len()
    }

    /// Line `turn` of conversation `conversation`'s dialogue (dialogues are spread over
    /// conversations so neighbours get different languages; a dialogue repeats when a
    /// conversation outlasts it).
    pub fn line(&self, conversation: usize, turn: u32) -> &str {
        let dialogue = &self.dialogues[conversation.wrapping_mul(7919) % self.dialogues.len()];
        &dialogue[turn as usize % dialogue.len()]
    }

    /// Mean line length in bytes.
    pub fn mean_bytes(&self) -> f64 {
        let (bytes, lines) = self
            .dialogues
            .iter()
            .flatten()
            .fold((0usize, 0usize), |(bytes, lines), line| {
                (bytes + line.len(), lines + 1)
            });
        bytes as f64 / lines.max(1) as f64
    }
}

/// Runs the fetch script unless the JSON is already there; returns its path.
pub fn fetch(dir: &Path) -> anyhow::Result<PathBuf> {
    let json = dir.join("chatterbot-corpus-1.3.3.json");
    if json.exists() {
        return Ok(json);
    }
    std::fs::create_dir_all(dir)?;
    let status = Command::new("python3")
        .arg("-c")
        .arg(FETCH_SCRIPT)
        .arg(dir)
        .status()
        .context("python3 is needed to fetch the corpus")?;
    if !status.success() || !json.exists() {
        bail!(
            "could not fetch chatterbot-corpus==1.3.3 into {} (pip download --no-deps)",
            dir.display()
        );
    }
    Ok(json)
}
