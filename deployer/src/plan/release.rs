//! The release part of a plan: how each function's `live` alias moves (and
//! from which digest to which), and what rolls the release back. Pure.

use serde::Serialize;

use super::format::short;

/// How the functions are released, and what rolls the release back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Release {
    /// One entry per function, api first.
    pub functions: Vec<FunctionRelease>,
    /// The alarms CloudFormation watches (the change set's rollback triggers), as ARNs.
    pub rollback_triggers: Vec<String>,
    /// Minutes CloudFormation keeps watching them after the update's resources are in place.
    pub monitoring_minutes: u32,
    /// Why the triggers are fewer than the stage's release alarms, when they are.
    pub note: Option<String>,
}

/// One function's release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionRelease {
    /// `api` or `worker`.
    pub function: String,
    /// The alias that moves: `live`.
    pub alias: String,
    /// In words: `canary 10 % for 5 min`, `all at once`.
    pub strategy: String,
    /// The CodeDeploy configuration, when CodeDeploy shifts the alias.
    pub codedeploy_config: Option<String>,
    /// The alarms that stop CodeDeploy's shift and move traffic back (labels).
    pub stops_on: Vec<String>,
    /// The digest the alias points at now; none before the first deploy.
    pub before: Option<String>,
    /// The digest it points at after this release.
    pub after: String,
}

/// An alarm's name from its ARN (`...:alarm:<name>`).
pub fn alarm_name(arn: &str) -> &str {
    arn.rsplit_once(":alarm:").map_or(arn, |(_, name)| name)
}

/// One line: `api: canary 10 % for 5 min, rollback on ApiErrors, Api5xx; worker: all at once; monitoring 10 min`.
pub fn summary(r: &Release) -> String {
    let mut parts: Vec<String> = r
        .functions
        .iter()
        .map(|f| {
            let mut s = format!("{}: {}", f.function, f.strategy);
            if !f.stops_on.is_empty() {
                s.push_str(&format!(", rollback on {}", f.stops_on.join(", ")));
            }
            s
        })
        .collect();
    parts.push(format!("monitoring {} min", r.monitoring_minutes));
    parts.join("; ")
}

/// The rollback triggers in words: their names, or why there are none.
pub fn triggers_text(r: &Release) -> String {
    let names: Vec<&str> = r.rollback_triggers.iter().map(|a| alarm_name(a)).collect();
    let mut s = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    if let Some(note) = &r.note {
        s.push_str(&format!(" ({note})"));
    }
    s
}

/// `0123456789ab -> 2222...` or `(none) -> ...` or `0123456789ab (unchanged)`.
pub fn digests_text(f: &FunctionRelease) -> String {
    match f.before.as_deref() {
        Some(b) if b == f.after => format!("{} (unchanged)", short(b)),
        Some(b) => format!("{} -> {}", short(b), short(&f.after)),
        None => format!("(none) -> {}", short(&f.after)),
    }
}

/// The release as text lines (under `release:` in the table plan).
pub fn text(r: &Release) -> String {
    let mut out = format!("release: {}\n", summary(r));
    let rows: Vec<Vec<String>> = r
        .functions
        .iter()
        .map(|f| {
            vec![
                f.function.clone(),
                f.alias.clone(),
                digests_text(f),
                match &f.codedeploy_config {
                    Some(c) => format!("{} ({c})", f.strategy),
                    None => f.strategy.clone(),
                },
            ]
        })
        .collect();
    out.push_str(&super::format::table(&rows));
    out.push_str(&format!("  rollback triggers: {}\n", triggers_text(r)));
    out
}

/// The release as Markdown (the pull-request comment).
pub fn markdown(r: &Release) -> String {
    let mut out = format!("**Release:** {}.\n\n", summary(r));
    out.push_str("| function | alias | now | after | how |\n|---|---|---|---|---|\n");
    for f in &r.functions {
        let now = f
            .before
            .as_deref()
            .map_or("(none)".to_string(), |b| format!("`{}`", short(b)));
        let after = if f.before.as_deref() == Some(f.after.as_str()) {
            "(unchanged)".to_string()
        } else {
            format!("`{}`", short(&f.after))
        };
        let how = match &f.codedeploy_config {
            Some(c) => format!(
                "{} (CodeDeploy `{c}`), shifted back on {}",
                f.strategy,
                f.stops_on.join(", ")
            ),
            None => f.strategy.clone(),
        };
        out.push_str(&format!(
            "| {} | `{}` | {now} | {after} | {how} |\n",
            f.function, f.alias
        ));
    }
    out.push_str(&format!(
        "\nCloudFormation rolls the update back if any of these goes to ALARM during it or in the {} min after it: {}.\n\n",
        r.monitoring_minutes,
        triggers_text(r)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release() -> Release {
        Release {
            functions: vec![
                FunctionRelease {
                    function: "api".into(),
                    alias: "live".into(),
                    strategy: "canary 10 % for 5 min".into(),
                    codedeploy_config: Some(
                        "CodeDeployDefault.LambdaCanary10Percent5Minutes".into(),
                    ),
                    stops_on: vec!["ApiErrors".into(), "Api5xx".into()],
                    before: Some("1".repeat(64)),
                    after: "2".repeat(64),
                },
                FunctionRelease {
                    function: "worker".into(),
                    alias: "live".into(),
                    strategy: "all at once".into(),
                    codedeploy_config: None,
                    stops_on: vec![],
                    before: Some("3".repeat(64)),
                    after: "3".repeat(64),
                },
            ],
            rollback_triggers: vec![
                "arn:aws:cloudwatch:us-east-1:1:alarm:countries-prod-api-errors".into(),
            ],
            monitoring_minutes: 10,
            note: None,
        }
    }

    #[test]
    fn the_summary_says_how_each_function_is_released() {
        assert_eq!(
            summary(&release()),
            "api: canary 10 % for 5 min, rollback on ApiErrors, Api5xx; worker: all at once; monitoring 10 min"
        );
        let t = text(&release());
        assert!(t.contains("api     live  111111111111 -> 222222222222  canary 10 % for 5 min (CodeDeployDefault.LambdaCanary10Percent5Minutes)"), "{t}");
        assert!(
            t.contains("worker  live  333333333333 (unchanged)      all at once"),
            "{t}"
        );
        assert!(
            t.contains("rollback triggers: countries-prod-api-errors"),
            "{t}"
        );
    }
}
