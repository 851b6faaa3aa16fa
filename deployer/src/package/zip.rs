//! Deterministic Lambda zips: one entry, `bootstrap`, with a fixed timestamp
//! (1980-01-01 00:00), mode 0755 and deflate, so the same binary always gives
//! the same bytes and therefore the same SHA-256 (the artifact's name in S3).
//! Pure: bytes in, bytes out.

use std::io::{Cursor, Write};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The file name Lambda's `provided.al2023` runtime executes.
pub const ENTRY_NAME: &str = "bootstrap";

/// The entry's Unix mode: executable by everyone, writable by the owner.
pub const ENTRY_MODE: u32 = 0o755;

/// Zips `binary` as `bootstrap` deterministically; the error is the zip library's message.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>, String> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(ENTRY_MODE)
        .large_file(false);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer
        .start_file(ENTRY_NAME, options)
        .map_err(|e| e.to_string())?;
    writer.write_all(binary).map_err(|e| e.to_string())?;
    let cursor = writer.finish().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}

/// Lower-case hex SHA-256 of `bytes`: the artifact digest.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The S3 key of a function's zip: `functions/<name>/<sha256>.zip` (docs/contract.md).
pub fn artifact_key(function: &str, digest: &str) -> String {
    format!("functions/{function}/{digest}.zip")
}

/// The stack parameter that carries a function's artifact key:
/// `api` → `ApiArtifactKey` (the template's Parameters, docs/contract.md).
pub fn artifact_parameter(function: &str) -> String {
    let mut chars = function.chars();
    let first = chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string())
        .unwrap_or_default();
    format!("{first}{}ArtifactKey", chars.as_str())
}

/// The stack parameter that carries a function's CodeSha256: `api` → `ApiCodeSha256`
/// (its `AWS::Lambda::Version` is published per value).
pub fn code_sha256_parameter(function: &str) -> String {
    artifact_parameter(function).replace("ArtifactKey", "CodeSha256")
}

/// Lambda's CodeSha256 of a zip (its SHA-256, base64) from our hex digest; none
/// for a digest that is not 64 hex digits.
pub fn code_sha256(digest: &str) -> Option<String> {
    use base64::Engine;
    let bytes = hex::decode(digest).ok().filter(|b| b.len() == 32)?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The digest inside an artifact key, if the key has the contract's shape.
pub fn digest_of_key(key: &str) -> Option<&str> {
    let file = key.rsplit('/').next()?;
    let digest = file.strip_suffix(".zip")?;
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(digest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn code_sha256_is_lambdas_base64_of_the_digest() {
        // Lambda reports CodeSha256 as the base64 of the zip's SHA-256.
        let bytes = b"zip bytes";
        let expected = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
        };
        assert_eq!(
            code_sha256(&sha256_hex(bytes)).as_deref(),
            Some(expected.as_str())
        );
        assert_eq!(code_sha256("xyz"), None);
        assert_eq!(code_sha256_parameter("worker"), "WorkerCodeSha256");
    }

    #[test]
    fn artifact_parameters_match_the_template() {
        assert_eq!(artifact_parameter("api"), "ApiArtifactKey");
        assert_eq!(artifact_parameter("worker"), "WorkerArtifactKey");
    }

    #[test]
    fn same_input_gives_the_same_bytes() {
        let binary: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let a = zip_bootstrap(&binary).unwrap();
        let b = zip_bootstrap(&binary).unwrap();
        assert_eq!(a, b);
        assert_eq!(sha256_hex(&a), sha256_hex(&b));
        assert_ne!(
            sha256_hex(&a),
            sha256_hex(&zip_bootstrap(b"other").unwrap())
        );
    }

    #[test]
    fn entry_is_an_executable_bootstrap_from_1980() {
        let bytes = zip_bootstrap(b"#!/bin/sh\necho hi\n").unwrap();
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(entry.compression(), CompressionMethod::Deflated);
        let t = entry.last_modified().unwrap();
        assert_eq!(
            (t.year(), t.month(), t.day(), t.hour(), t.minute()),
            (1980, 1, 1, 0, 0)
        );
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        assert_eq!(text, "#!/bin/sh\necho hi\n");
    }

    #[test]
    fn keys_carry_the_digest() {
        let d = "ab".repeat(32);
        let key = artifact_key("api", &d);
        assert_eq!(key, format!("functions/api/{d}.zip"));
        assert_eq!(digest_of_key(&key), Some(d.as_str()));
        assert_eq!(digest_of_key("functions/api/<sha256>.zip"), None);
    }
}
