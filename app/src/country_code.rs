//! Country codes as the API accepts them: exactly two ASCII letters.
//!
//! Validation happens before any queue or table is touched, so a typo can
//! never cost an upstream request or count against the circuit breaker.

use std::fmt;

/// A validated, upper-case ISO 3166-1 alpha-2 (or user-assigned) code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode(String);

impl CountryCode {
    /// Accepts two ASCII letters in any case; anything else is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        let bytes = raw.as_bytes();
        if bytes.len() == 2 && bytes.iter().all(u8::is_ascii_alphabetic) {
            Some(Self(raw.to_ascii_uppercase()))
        } else {
            None
        }
    }

    /// The code, upper case.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The message the API and logs use for a rejected code. Long or
    /// non-printable input is shortened so it cannot flood a response or log.
    pub fn rejection_message(raw: &str) -> String {
        format!(
            "Provided country code [{}] is invalid: use two letters, an ISO 3166-1 alpha-2 code such as PY or de.",
            crate::untrusted::show(raw, 16)
        )
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_two_letters_any_case() {
        for raw in ["PY", "py", "pY", "xk", "ZZ"] {
            assert_eq!(CountryCode::parse(raw).unwrap().as_str(), raw.to_ascii_uppercase());
        }
    }

    #[test]
    fn rejects_everything_else() {
        let long = "A".repeat(10_000);
        for raw in ["", "P", "PRY", "P1", "12", "C2", "é1", "ÉS", "P ", " P", "a/b", "..", "%2F", &long] {
            assert!(CountryCode::parse(raw).is_none(), "{raw:?} must be rejected");
        }
    }

    #[test]
    fn rejection_message_is_short_and_names_the_input() {
        let msg = CountryCode::rejection_message("C2");
        assert!(msg.starts_with("Provided country code [C2]"), "{msg}");
        let long = CountryCode::rejection_message(&"x".repeat(10_000));
        assert!(long.len() < 200, "{long}");
        assert!(long.contains("xxx..."));
    }
}
