//! The promotion chain: `promote_from` links must not loop.

use std::collections::BTreeMap;

use super::at;
use crate::error::Diagnostic;
use crate::stage::load::Stage;

/// Reports each stage on a `promote_from` loop once, at its `promote_from` key.
pub(super) fn check_cycles(stages: &[Stage], out: &mut Vec<Diagnostic>) {
    let from: BTreeMap<&str, &str> = stages
        .iter()
        .filter_map(|s| Some((s.name.as_str(), s.spec.promote_from.as_deref()?)))
        .collect();
    for stage in stages {
        let mut chain = vec![stage.name.as_str()];
        let mut current = stage.name.as_str();
        while let Some(&next) = from.get(current) {
            if next == stage.name && chain.len() > 1 {
                chain.push(next);
                out.push(at(
                    stage,
                    "promote_from",
                    format!(
                        "promotion loops: {}; allowed: a chain that starts at a stage without promote_from",
                        chain.join(" <- ")
                    ),
                ));
                break;
            }
            if chain.contains(&next) {
                break; // a loop that does not pass through this stage; reported for its members
            }
            chain.push(next);
            current = next;
        }
    }
}
