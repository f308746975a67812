//! Group-commit benchmark on PostgreSQL (being written).
fn main() {}
