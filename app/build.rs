//! Links the local builds (the `release` profile) of the functions, and of
//! bench/floor (its Cargo.toml points here), as position-dependent
//! executables: a PIE binary of the api's size carries ~67,000 dynamic
//! relocations that the loader applies, page by page, before `main`, about
//! 0.8 ms of a 3 ms start. The `cloud` profile (built for Lambda) keeps PIE
//! and its address-space randomisation; so do tests and `dev` builds.

fn main() {
    // The output depends on the profile and the target only, and cargo runs the
    // script anew for each; naming a file stops it rerunning on every edit.
    println!("cargo::rerun-if-changed=Cargo.toml");
    // PROFILE is "release" for `release` and the profiles inheriting it; `cloud` inherits `dev`.
    let local = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if local && linux {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
