//! No code: this crate exists for its dependency list (see its Cargo.toml and
//! tools/workspace_hack.py), which makes every build of the workspace resolve
//! the same features for each shared crate, so each compiles once per profile.
