//! Which glibc a Linux binary needs, read from its ELF dynamic symbol
//! versions, so that a binary Lambda's `provided.al2023` (glibc 2.34) cannot
//! load is refused at packaging time, naming the symbol, instead of failing
//! at its first cold start.
//!
//! A small pure parser of 64-bit little-endian ELF (x86_64 and aarch64):
//! `.gnu.version_r` lists the versions each library must provide, and
//! `.gnu.version` maps each dynamic symbol to one of them.

use std::collections::BTreeMap;

/// The newest glibc on Lambda's `provided.al2023` runtime.
pub const LAMBDA_GLIBC: (u32, u32) = (2, 34);

const SHT_DYNSYM: u32 = 11;
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;

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

/// Every `GLIBC_x.y` version the ELF image needs, oldest first. Empty for a static binary.
pub fn glibc_needs(elf: &[u8]) -> Result<Vec<GlibcNeed>, String> {
    let file = Elf::parse(elf)?;
    let Some(verneed) = file.section_of_type(SHT_GNU_VERNEED) else {
        return Ok(vec![]); // static, or no versioned imports
    };
    let strings = file.section(verneed.link as usize)?;
    // version index -> version name, for glibc's versions only
    let mut by_index: BTreeMap<u16, String> = BTreeMap::new();
    let mut offset = verneed.offset;
    for _ in 0..verneed.info.max(1) {
        let count = file.u16(offset + 2)?;
        let mut aux = offset + file.u32(offset + 8)? as usize;
        for _ in 0..count {
            let index = file.u16(aux + 6)? & 0x7fff;
            let name = file.string(strings.offset, file.u32(aux + 8)? as usize)?;
            if name.starts_with("GLIBC_") {
                by_index.insert(index, name.to_string());
            }
            let next = file.u32(aux + 12)? as usize;
            if next == 0 {
                break;
            }
            aux += next;
        }
        let next = file.u32(offset + 12)? as usize;
        if next == 0 {
            break;
        }
        offset += next;
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
    if let (Some(dynsym), Some(versym)) = (
        file.section_of_type(SHT_DYNSYM),
        file.section_of_type(SHT_GNU_VERSYM),
    ) {
        let names = file.section(dynsym.link as usize)?;
        let count = dynsym.size / 24;
        for i in 0..count {
            let sym = dynsym.offset + i * 24;
            let defined = file.u16(sym + 6)? != 0;
            let index = file.u16(versym.offset + i * 2)? & 0x7fff;
            let Some(version) = by_index.get(&index).and_then(|n| parse_version(n)) else {
                continue;
            };
            if defined {
                continue;
            }
            let name = file.string(names.offset, file.u32(sym)? as usize)?;
            if let Some(need) = needs.get_mut(&version) {
                need.symbols.push(name.to_string());
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

struct Section {
    kind: u32,
    offset: usize,
    size: usize,
    link: u32,
    info: usize,
}

struct Elf<'a> {
    bytes: &'a [u8],
    sections: Vec<Section>,
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
            return Err("not an ELF file".into());
        }
        if bytes[4] != 2 || bytes[5] != 1 {
            return Err(
                "not a 64-bit little-endian ELF file (Lambda runs x86_64 and arm64 only)".into(),
            );
        }
        let mut elf = Elf {
            bytes,
            sections: vec![],
        };
        let shoff = elf.u64(0x28)? as usize;
        let entsize = elf.u16(0x3a)? as usize;
        let count = elf.u16(0x3c)? as usize;
        if shoff == 0 || count == 0 {
            return Err("the ELF file has no section headers".into());
        }
        if entsize < 64 {
            return Err(format!("unexpected ELF section header size {entsize}"));
        }
        for i in 0..count {
            let h = shoff + i * entsize;
            elf.sections.push(Section {
                kind: elf.u32(h + 4)?,
                offset: elf.u64(h + 24)? as usize,
                size: elf.u64(h + 32)? as usize,
                link: elf.u32(h + 40)?,
                info: elf.u32(h + 44)? as usize,
            });
        }
        Ok(elf)
    }

    fn section_of_type(&self, kind: u32) -> Option<&Section> {
        self.sections.iter().find(|s| s.kind == kind)
    }

    fn section(&self, index: usize) -> Result<&Section, String> {
        self.sections
            .get(index)
            .ok_or_else(|| format!("ELF section {index} does not exist"))
    }

    fn slice(&self, at: usize, len: usize) -> Result<&'a [u8], String> {
        self.bytes
            .get(at..at.checked_add(len).ok_or("ELF offset overflow")?)
            .ok_or_else(|| format!("ELF file truncated (offset {at})"))
    }

    fn u16(&self, at: usize) -> Result<u16, String> {
        Ok(u16::from_le_bytes(
            self.slice(at, 2)?.try_into().unwrap_or_default(),
        ))
    }

    fn u32(&self, at: usize) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.slice(at, 4)?.try_into().unwrap_or_default(),
        ))
    }

    fn u64(&self, at: usize) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.slice(at, 8)?.try_into().unwrap_or_default(),
        ))
    }

    fn string(&self, table: usize, at: usize) -> Result<&'a str, String> {
        let start = table.checked_add(at).ok_or("ELF offset overflow")?;
        let rest = self
            .bytes
            .get(start..)
            .ok_or("ELF string outside the file")?;
        let end = rest
            .iter()
            .position(|b| *b == 0)
            .ok_or("unterminated ELF string")?;
        std::str::from_utf8(&rest[..end]).map_err(|_| "ELF string is not UTF-8".to_string())
    }
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
        assert!(
            glibc_needs(b"#!/bin/sh\n")
                .unwrap_err()
                .contains("not an ELF")
        );
        let mut elf32 = vec![0u8; 64];
        elf32[..4].copy_from_slice(b"\x7fELF");
        elf32[4] = 1;
        elf32[5] = 1;
        assert!(glibc_needs(&elf32).unwrap_err().contains("64-bit"));
    }

    /// The test binary itself is a dynamically linked glibc executable.
    #[test]
    fn reads_a_real_binary() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let needs = glibc_needs(&me).unwrap();
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
