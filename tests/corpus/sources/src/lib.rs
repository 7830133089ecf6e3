//! Nothing: this package only pins sources (see Cargo.toml).
