//! Tidy checks for the workspace, in the spirit of rust-analyzer's `xtask/src/tidy.rs`:
//! every Rust file opens with a `//!` paragraph, `docs/protocol.md` names every frame type
//! and error code of `livehelp-protocol`, crates depend only as ARCHITECTURE.md allows,
//! and SQL appears only in store backends. `cargo test -p xtask` runs them;
//! `cargo run -p xtask -- tidy` prints every problem.

mod tidy;

fn main() {
    let problems = tidy::all(&tidy::workspace_root());
    if problems.is_empty() {
        println!("tidy: ok");
        return;
    }
    for problem in &problems {
        eprintln!("tidy: {problem}");
    }
    std::process::exit(1);
}
