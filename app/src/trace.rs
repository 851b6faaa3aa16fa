//! X-Ray trace headers (`Root=1-…;Parent=…;Sampled=…`), as Lambda gives
//! them (the invocation context, `_X_AMZN_TRACE_ID`), as the HTTP API adds
//! them (`X-Amzn-Trace-Id`) and as SQS carries them (the `AWSTraceHeader`
//! message system attribute). Pure.
//!
//! A header comes from outside (a caller, any queue producer), so only its
//! well-formed `Root`, `Parent` and `Sampled` parts are kept; anything else
//! makes no header at all, never an error: tracing must not fail a request.

/// A parsed, canonical trace header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    root: String,
    parent: Option<String>,
    sampled: Option<char>,
}

/// The longest header read; real ones are about 100 characters.
const MAX_LEN: usize = 512;

fn hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl TraceHeader {
    /// Reads a header; `None` unless it has a well-formed `Root`.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() > MAX_LEN {
            return None;
        }
        let (mut root, mut parent, mut sampled) = (None, None, None);
        for part in raw.split(';') {
            let Some((key, value)) = part.trim().split_once('=') else { continue };
            match key {
                "Root" => {
                    let mut pieces = value.split('-');
                    let ok = pieces.next() == Some("1")
                        && pieces.next().is_some_and(|t| hex(t, 8))
                        && pieces.next().is_some_and(|id| hex(id, 24))
                        && pieces.next().is_none();
                    if !ok {
                        return None;
                    }
                    root = Some(value.to_ascii_lowercase());
                }
                "Parent" if hex(value, 16) => parent = Some(value.to_ascii_lowercase()),
                "Sampled" if matches!(value, "0" | "1" | "?") => sampled = value.chars().next(),
                _ => {}
            }
        }
        Some(Self { root: root?, parent, sampled })
    }

    /// The trace id (`1-5759e988-bd862e3fe1be46a994272793`): what the X-Ray console searches by.
    pub fn trace_id(&self) -> &str {
        &self.root
    }

    /// The header to pass on (to SQS as `AWSTraceHeader`).
    pub fn header(&self) -> String {
        let mut out = format!("Root={}", self.root);
        if let Some(parent) = &self.parent {
            out.push_str(&format!(";Parent={parent}"));
        }
        if let Some(sampled) = self.sampled {
            out.push_str(&format!(";Sampled={sampled}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_root_parent_and_sampled() {
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:1").unwrap();
        assert_eq!(h.trace_id(), "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(h.header(), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
        let root_only = TraceHeader::parse("Root=1-5759E988-BD862E3FE1BE46A994272793").unwrap();
        assert_eq!(root_only.header(), "Root=1-5759e988-bd862e3fe1be46a994272793");
    }

    #[test]
    fn anything_else_is_no_header() {
        for raw in [
            "",
            "Parent=53995c3f42cd8ad8",
            "Root=1-5759e988",
            "Root=2-5759e988-bd862e3fe1be46a994272793",
            "Root=1-5759e988-bd862e3fe1be46a99427279z",
            "Root=1-5759e988-bd862e3fe1be46a994272793-x",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-x",
        ] {
            assert_eq!(TraceHeader::parse(raw), None, "{raw:?}");
        }
        assert_eq!(TraceHeader::parse(&format!("Root=1-5759e988-bd862e3fe1be46a994272793;{}", "x".repeat(600))), None);
        // A malformed optional part is dropped, not passed on.
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=<script>;Sampled=yes").unwrap();
        assert_eq!(h.header(), "Root=1-5759e988-bd862e3fe1be46a994272793");
    }
}
