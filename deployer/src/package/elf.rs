//! What a Linux binary is, read with the `object` crate: the architecture it
//! was built for (it must be the stage's), and which glibc it needs, from its
//! ELF dynamic symbol versions, so that a binary Lambda's `provided.al2023`
//! (glibc 2.34) cannot load is refused at packaging time, naming the symbol,
//! instead of failing at its first cold start.
//!
//! `.gnu.version_r` lists the versions each library must provide, and
//! `.gnu.version` maps each dynamic symbol to one of them.

use std::collections::BTreeMap;

use object::read::elf::{ElfFile64, Sym};
use object::{Endianness, FileKind, Object};

use crate::stage::schema::Architecture;

/// The newest glibc on Lambda's `provided.al2023` runtime.
pub const LAMBDA_GLIBC: (u32, u32) = (2, 34);

/// What packaging needs to know about a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfInfo {
    /// The architecture it runs on (Lambda runs x86_64 and arm64 only).
    pub architecture: Architecture,
    /// Every `GLIBC_x.y` version it needs, oldest first. Empty for a static binary.
    pub glibc: Vec<GlibcNeed>,
}

/// One `GLIBC_x.y` version the binary needs, with the imported symbols that need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlibcNeed {
    /// `(major, minor)`, e.g. `(2, 34)`.
    pub version: (u32, u32),
    /// The version's name, e.g. `GLIBC_2.34`.
    pub name: String,
    /// Imported symbols bound to this version, sorted.
    pub symbols: Vec<String>,
}

/// Reads a 64-bit little-endian ELF image: its architecture and the glibc
/// versions it needs.
pub fn inspect(bytes: &[u8]) -> Result<ElfInfo, String> {
    let not_64_le = || "not a 64-bit little-endian ELF file (Lambda runs x86_64 and arm64 only)";
    match FileKind::parse(bytes) {
        Ok(FileKind::Elf64) => {}
        Ok(FileKind::Elf32) => return Err(not_64_le().into()),
        _ => return Err("not an ELF file".into()),
    }
    let file =
        ElfFile64::<Endianness>::parse(bytes).map_err(|e| format!("not a usable ELF file: {e}"))?;
    if !file.is_little_endian() {
        return Err(not_64_le().into());
    }
    let architecture = match file.architecture() {
        object::Architecture::X86_64 => Architecture::X86_64,
        object::Architecture::Aarch64 => Architecture::Arm64,
        other => return Err(format!("built for {other:?}, which Lambda does not run")),
    };
    Ok(ElfInfo {
        architecture,
        glibc: glibc_needs(&file).map_err(|e| format!("cannot read its symbol versions: {e}"))?,
    })
}

fn glibc_needs(file: &ElfFile64<'_, Endianness>) -> object::Result<Vec<GlibcNeed>> {
    let endian = file.endian();
    let data = file.data();
    let sections = file.elf_section_table();
    let Some((mut verneeds, link)) = sections.gnu_verneed(endian, data)? else {
        return Ok(vec![]); // static, or no versioned imports
    };
    let strings = sections.strings(endian, data, link)?;
    // version index -> version name, for glibc's versions only
    let mut by_index: BTreeMap<u16, String> = BTreeMap::new();
    while let Some((_, mut auxs)) = verneeds.next()? {
        while let Some(aux) = auxs.next()? {
            let name = String::from_utf8_lossy(aux.name(endian, strings)?).into_owned();
            if name.starts_with("GLIBC_") {
                by_index.insert(aux.vna_other.get(endian) & 0x7fff, name);
            }
        }
    }
    let mut needs: BTreeMap<(u32, u32), GlibcNeed> = BTreeMap::new();
    for name in by_index.values() {
        if let Some(version) = parse_version(name) {
            needs.entry(version).or_insert_with(|| GlibcNeed {
                version,
                name: name.clone(),
                symbols: vec![],
            });
        }
    }
    if let Some(versions) = sections.versions(endian, data)? {
        let symbols = file.elf_dynamic_symbol_table();
        for (index, sym) in symbols.enumerate() {
            if !sym.is_undefined(endian) {
                continue;
            }
            let at = versions.version_index(endian, index).0 & 0x7fff;
            let Some(version) = by_index.get(&at).and_then(|n| parse_version(n)) else {
                continue;
            };
            let name = String::from_utf8_lossy(sym.name(endian, symbols.strings())?).into_owned();
            if let Some(need) = needs.get_mut(&version) {
                need.symbols.push(name);
            }
        }
    }
    let mut out: Vec<GlibcNeed> = needs.into_values().collect();
    for need in &mut out {
        need.symbols.sort();
        need.symbols.dedup();
    }
    Ok(out)
}

/// The newest glibc version needed, if any.
pub fn max_version(needs: &[GlibcNeed]) -> Option<&GlibcNeed> {
    needs.iter().max_by_key(|n| n.version)
}

/// The needs newer than `limit` (what Lambda cannot load).
pub fn newer_than(needs: &[GlibcNeed], limit: (u32, u32)) -> Vec<&GlibcNeed> {
    needs.iter().filter(|n| n.version > limit).collect()
}

/// `GLIBC_2.34` -> `(2, 34)`; `GLIBC_PRIVATE` -> none.
pub fn parse_version(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("GLIBC_")?;
    let mut parts = rest.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("GLIBC_2.34"), Some((2, 34)));
        assert_eq!(parse_version("GLIBC_2.2.5"), Some((2, 2)));
        assert_eq!(parse_version("GLIBC_PRIVATE"), None);
        assert!((2, 39) > LAMBDA_GLIBC && (2, 4) < LAMBDA_GLIBC);
    }

    #[test]
    fn rejects_what_is_not_elf() {
        assert!(inspect(b"#!/bin/sh\n").unwrap_err().contains("not an ELF"));
        let mut elf32 = vec![0u8; 64];
        elf32[..4].copy_from_slice(b"\x7fELF");
        elf32[4] = 1;
        elf32[5] = 1;
        assert!(inspect(&elf32).unwrap_err().contains("64-bit"));
    }

    /// The test binary itself is a dynamically linked glibc executable.
    #[test]
    fn reads_a_real_binary() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let info = inspect(&me).unwrap();
        assert_eq!(
            Some(info.architecture),
            crate::package::build::host_architecture()
        );
        let needs = info.glibc;
        let max = max_version(&needs).expect("a glibc binary needs some GLIBC_ version");
        assert!(max.version >= (2, 2), "{needs:?}");
        assert!(needs.iter().any(|n| !n.symbols.is_empty()), "{needs:?}");
        assert!(
            needs
                .iter()
                .flat_map(|n| &n.symbols)
                .any(|s| s == "malloc" || s == "memcpy" || s == "write"),
            "{needs:?}"
        );
    }
}
