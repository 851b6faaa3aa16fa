//! Links the floor as app/build.rs links the functions (position-dependent in
//! the `release` profile), so the cold-start ratio compares like with like.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let local = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if local && linux {
        println!("cargo::rustc-link-arg-bins=-no-pie");
    }
}
