//! The stage file's `release` section: how a new release reaches traffic and
//! what rolls it back (docs/stages.md, `release`).

use serde::{Deserialize, Serialize};

/// How a new release of the functions reaches traffic, and how long
/// CloudFormation watches the stage's alarms afterwards (docs/stages.md, `release`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSettings {
    /// How the api's `live` alias moves to a new version. The worker always
    /// moves all at once (an SQS trigger cannot split a queue by percent).
    #[serde(default)]
    pub api_traffic: TrafficShift,
    /// Minutes CloudFormation keeps watching the rollback alarms after an
    /// update's resources are in place (0-180); an alarm in that window rolls it back.
    #[serde(default)]
    pub monitoring_minutes: u32,
}

/// A traffic shift for the api's alias: all at once, or one of CodeDeploy's
/// predefined Lambda canary and linear configurations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum TrafficShift {
    /// The alias points at the new version at once.
    #[default]
    #[serde(rename = "all_at_once")]
    AllAtOnce,
    /// 10 % for 5 minutes, then the rest.
    #[serde(rename = "canary_10_percent_5_minutes")]
    Canary10Percent5Minutes,
    /// 10 % for 10 minutes, then the rest.
    #[serde(rename = "canary_10_percent_10_minutes")]
    Canary10Percent10Minutes,
    /// 10 % for 15 minutes, then the rest.
    #[serde(rename = "canary_10_percent_15_minutes")]
    Canary10Percent15Minutes,
    /// 10 % for 30 minutes, then the rest.
    #[serde(rename = "canary_10_percent_30_minutes")]
    Canary10Percent30Minutes,
    /// 10 % more every minute.
    #[serde(rename = "linear_10_percent_every_1_minute")]
    Linear10PercentEvery1Minute,
    /// 10 % more every 2 minutes.
    #[serde(rename = "linear_10_percent_every_2_minutes")]
    Linear10PercentEvery2Minutes,
    /// 10 % more every 3 minutes.
    #[serde(rename = "linear_10_percent_every_3_minutes")]
    Linear10PercentEvery3Minutes,
    /// 10 % more every 10 minutes.
    #[serde(rename = "linear_10_percent_every_10_minutes")]
    Linear10PercentEvery10Minutes,
}

impl TrafficShift {
    /// The CodeDeploy deployment configuration; none for all at once (no CodeDeploy).
    pub fn codedeploy_config(self) -> Option<&'static str> {
        use TrafficShift::*;
        Some(match self {
            AllAtOnce => return None,
            Canary10Percent5Minutes => "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            Canary10Percent10Minutes => "CodeDeployDefault.LambdaCanary10Percent10Minutes",
            Canary10Percent15Minutes => "CodeDeployDefault.LambdaCanary10Percent15Minutes",
            Canary10Percent30Minutes => "CodeDeployDefault.LambdaCanary10Percent30Minutes",
            Linear10PercentEvery1Minute => "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
            Linear10PercentEvery2Minutes => "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
            Linear10PercentEvery3Minutes => "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
            Linear10PercentEvery10Minutes => {
                "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes"
            }
        })
    }

    /// In words, as plans print it: `canary 10 % for 5 min`, `all at once`.
    pub fn describe(self) -> &'static str {
        use TrafficShift::*;
        match self {
            AllAtOnce => "all at once",
            Canary10Percent5Minutes => "canary 10 % for 5 min",
            Canary10Percent10Minutes => "canary 10 % for 10 min",
            Canary10Percent15Minutes => "canary 10 % for 15 min",
            Canary10Percent30Minutes => "canary 10 % for 30 min",
            Linear10PercentEvery1Minute => "linear 10 % every 1 min",
            Linear10PercentEvery2Minutes => "linear 10 % every 2 min",
            Linear10PercentEvery3Minutes => "linear 10 % every 3 min",
            Linear10PercentEvery10Minutes => "linear 10 % every 10 min",
        }
    }
}
