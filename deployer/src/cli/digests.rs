//! `--artifact-digest`: a value of its own, so `up` and `promote` parse it the same way.

/// `--artifact-digest api=<sha256>,worker=<sha256>`: zips already in the artifact bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactDigests(pub std::collections::BTreeMap<String, String>);

impl std::str::FromStr for ArtifactDigests {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut map = std::collections::BTreeMap::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (name, digest) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not <function>=<sha256>"))?;
            if !crate::package::FUNCTIONS.contains(&name) {
                return Err(format!(
                    "unknown function `{name}`; expected api and worker"
                ));
            }
            if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("`{digest}` is not a SHA-256 (64 hex digits)"));
            }
            map.insert(name.to_string(), digest.to_ascii_lowercase());
        }
        if map.len() != crate::package::FUNCTIONS.len() {
            return Err("give both: api=<sha256>,worker=<sha256>".into());
        }
        Ok(ArtifactDigests(map))
    }
}
