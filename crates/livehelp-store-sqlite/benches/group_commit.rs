//! Group-commit benchmark (being written).
fn main() {}
