//! Packaging: deterministic zips of real ELF binaries, the glibc guard, and
//! `--artifacts` folders that do not match their manifest.

use std::path::{Path, PathBuf};

use deployer::package::{self, manifest::MANIFEST_FILE};
use deployer::stage::schema::Architecture;

/// A dynamically linked glibc executable of this machine.
fn real_elf() -> Vec<u8> {
    for candidate in ["/bin/ls", "/usr/bin/env", "/bin/sh"] {
        if let Ok(bytes) = std::fs::read(candidate)
            && bytes.starts_with(b"\x7fELF")
        {
            return bytes;
        }
    }
    panic!("no ELF executable found in /bin or /usr/bin");
}

fn binaries(dir: &Path, elf: &[u8]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in ["api", "worker"] {
        std::fs::write(bin.join(name), elf).unwrap();
    }
    bin
}

#[test]
fn the_same_binaries_give_the_same_zips_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let bin = binaries(dir.path(), &real_elf());
    let a = package::package_binaries(
        &bin,
        &dir.path().join("a"),
        Architecture::X86_64,
        "test",
        "c1",
    )
    .unwrap();
    // Touch the binaries: timestamps must not matter.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let elf = real_elf();
    std::fs::write(bin.join("api"), &elf).unwrap();
    let b = package::package_binaries(
        &bin,
        &dir.path().join("b"),
        Architecture::X86_64,
        "test",
        "c1",
    )
    .unwrap();
    assert_eq!(a.digests(), b.digests());
    assert_eq!(
        std::fs::read(dir.path().join("a/api.zip")).unwrap(),
        std::fs::read(dir.path().join("b/api.zip")).unwrap()
    );
    let api = a.function("api").unwrap();
    assert_eq!(api.key, format!("functions/api/{}.zip", api.digest));
    assert!(
        api.glibc.as_deref().unwrap_or("").starts_with("GLIBC_2."),
        "{api:?}"
    );
    // The folder reads back as an --artifacts folder.
    let loaded = package::load(&dir.path().join("a"), Architecture::X86_64).unwrap();
    assert_eq!(loaded.digests(), a.digests());
}

#[test]
fn a_binary_needing_a_newer_glibc_is_refused_with_its_symbols() {
    let mut elf = real_elf();
    let needle = b"\0GLIBC_2.";
    let at = elf
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("a GLIBC_2. version string");
    elf[at + 7] = b'9'; // GLIBC_2.x -> GLIBC_9.x
    let dir = tempfile::tempdir().unwrap();
    let bin = binaries(dir.path(), &elf);
    let err = package::package_binaries(
        &bin,
        &dir.path().join("out"),
        Architecture::X86_64,
        "test",
        "c1",
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("api needs a newer glibc"), "{message}");
    assert!(message.contains("GLIBC_9."), "{message}");
    assert!(
        message.contains("symbols: ") && !message.contains("(no symbol named)"),
        "{message}"
    );
    assert_eq!(err.exit_code(), 1);
    assert!(err.hint().contains("cargo-zigbuild"), "{}", err.hint());
}

#[test]
fn an_artifacts_folder_must_match_its_manifest_and_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let bin = binaries(dir.path(), &real_elf());
    let out = dir.path().join("pkg");
    package::package_binaries(&bin, &out, Architecture::X86_64, "test", "c1").unwrap();
    let err = package::load(&out, Architecture::Arm64)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("built for x86_64 but the stage runs on arm64"),
        "{err}"
    );
    std::fs::write(out.join("worker.zip"), b"tampered").unwrap();
    let err = package::load(&out, Architecture::X86_64)
        .unwrap_err()
        .to_string();
    assert!(err.contains("worker.zip has sha256"), "{err}");
    std::fs::remove_file(out.join(MANIFEST_FILE)).unwrap();
    let err = package::load(&out, Architecture::X86_64)
        .unwrap_err()
        .to_string();
    assert!(err.contains("manifest.json"), "{err}");
}
