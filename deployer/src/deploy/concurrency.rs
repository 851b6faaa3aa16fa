//! Lambda concurrency, checked before CloudFormation: the functions' reserved
//! concurrency (`ReservedConcurrentExecutions` in the stack) comes out of the
//! account's regional quota, and Lambda refuses a reservation that leaves
//! less than its minimum unreserved, deep inside a stack update (after the
//! upload, with a rollback). New accounts can start with a quota of 10, where
//! nothing can be reserved at all. So `plan`, `up` and `promote` compare the
//! stage's reservations with GetAccountSettings first and refuse with the
//! numbers. The arithmetic is pure; `check` makes the two calls around it.

use std::collections::BTreeMap;

use crate::aws::cloudformation::Stacks;
use crate::aws::lambda::{AccountConcurrency, AccountLimits};
use crate::error::{DeployError, Result};

use super::gather::Deployment;

/// What Lambda keeps unreserved: "at least 100 simultaneous executions
/// unreserved for functions that aren't configured with a per-function
/// limit" (PutFunctionConcurrency). An account whose quota is below 100 keeps
/// its whole quota unreserved (its error names the quota as the minimum).
pub const UNRESERVED_MINIMUM: u32 = 100;

/// The Service Quotas code of Lambda's "Concurrent executions".
pub const QUOTA_CODE: &str = "L-B99A9384";

/// The numbers of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// The account's regional quota (`ConcurrentExecutions`).
    pub limit: u32,
    /// Unreserved now (`UnreservedConcurrentExecutions`).
    pub unreserved_now: u32,
    /// What the stage's stack reserves now.
    pub stage_now: u32,
    /// What the other functions of the account reserve.
    pub others: u32,
    /// What the stage's new stack reserves.
    pub wanted: u32,
    /// Unreserved once the deploy is done.
    pub unreserved_after: u32,
    /// The least Lambda keeps unreserved in this account.
    pub minimum: u32,
}

impl Fit {
    /// The numbers for a stage whose stack reserves `stage_now` and will reserve `wanted`. Pure.
    pub fn new(account: AccountConcurrency, stage_now: u32, wanted: u32) -> Fit {
        let others = account
            .limit
            .saturating_sub(account.unreserved)
            .saturating_sub(stage_now);
        Fit {
            limit: account.limit,
            unreserved_now: account.unreserved,
            stage_now,
            others,
            wanted,
            unreserved_after: (account.unreserved + stage_now).saturating_sub(wanted),
            minimum: account.limit.min(UNRESERVED_MINIMUM),
        }
    }

    /// True when Lambda accepts the reservations: they do not grow, or what
    /// stays unreserved is at least the minimum.
    pub fn fits(&self) -> bool {
        self.wanted <= self.stage_now || self.unreserved_after >= self.minimum
    }

    /// The quota the account needs for these reservations.
    pub fn quota_needed(&self) -> u32 {
        self.others + self.wanted + UNRESERVED_MINIMUM
    }

    /// One line with the numbers, for the progress output.
    pub fn summary(&self) -> String {
        format!(
            "Lambda concurrency: the stage reserves {} (now {}), other functions {}, of the account's {}; {} stay unreserved (at least {} must)",
            self.wanted,
            self.stage_now,
            self.others,
            self.limit,
            self.unreserved_after,
            self.minimum
        )
    }
}

/// `ReservedConcurrentExecutions` of every Lambda function in a CloudFormation
/// template, by logical id. Pure; `Err` says why the template cannot tell.
pub fn reservations(template: &str) -> std::result::Result<BTreeMap<String, u32>, String> {
    let doc: yaml_serde::Value =
        yaml_serde::from_str(template).map_err(|e| format!("not a YAML template: {e}"))?;
    let mut found = BTreeMap::new();
    let Some(resources) = doc.get("Resources").and_then(|r| r.as_mapping()) else {
        return Ok(found);
    };
    for (id, resource) in resources {
        if resource.get("Type").and_then(|t| t.as_str()) != Some("AWS::Lambda::Function") {
            continue;
        }
        let id = id.as_str().unwrap_or_default().to_string();
        let Some(value) = resource
            .get("Properties")
            .and_then(|p| p.get("ReservedConcurrentExecutions"))
        else {
            continue;
        };
        let n = value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("{id}'s ReservedConcurrentExecutions is not a whole number"))?;
        found.insert(id, n);
    }
    Ok(found)
}

/// Stack statuses whose template's functions do not exist (nothing is reserved).
fn holds_no_functions(status: &str) -> bool {
    matches!(
        status,
        "REVIEW_IN_PROGRESS" | "ROLLBACK_COMPLETE" | "DELETE_COMPLETE"
    )
}

/// Reads the account's concurrency and what the stage's stack reserves now,
/// and refuses (nothing changed) when the new reservations cannot fit. A
/// stage that reserves nothing needs no check and makes no call.
pub async fn check(
    lambda: &impl AccountLimits,
    cfn: &impl Stacks,
    d: &Deployment,
) -> Result<Option<Fit>> {
    let unreadable = |problem: String| DeployError::ConcurrencyUnknown {
        stack: d.stack_name.clone(),
        problem,
    };
    let wanted: u32 = reservations(&d.template)
        .map_err(unreadable)?
        .values()
        .sum();
    if wanted == 0 {
        return Ok(None);
    }
    let account = lambda.concurrency().await?;
    let stage_now = match cfn.describe_stack(&d.stack_name).await? {
        Some(stack) if !holds_no_functions(&stack.status) => {
            reservations(&cfn.template(&d.stack_name).await?)
                .map_err(unreadable)?
                .values()
                .sum()
        }
        _ => 0,
    };
    let fit = Fit::new(account, stage_now, wanted);
    if fit.fits() {
        Ok(Some(fit))
    } else {
        Err(DeployError::ConcurrencyDoesNotFit {
            stage: d.stage.clone(),
            region: d.region.clone(),
            limit: fit.limit,
            others: fit.others,
            stage_now: fit.stage_now,
            wanted: fit.wanted,
            unreserved_after: fit.unreserved_after,
            minimum: fit.minimum,
            quota_needed: fit.quota_needed(),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(limit: u32, unreserved: u32) -> AccountConcurrency {
        AccountConcurrency { limit, unreserved }
    }

    #[test]
    fn a_new_account_with_a_quota_of_ten_cannot_reserve_anything() {
        let fit = Fit::new(account(10, 10), 0, 15);
        assert!(!fit.fits());
        assert_eq!((fit.minimum, fit.unreserved_after), (10, 0));
        assert_eq!(fit.quota_needed(), 115);
        // Reserving nothing always fits.
        assert!(Fit::new(account(10, 10), 0, 0).fits());
    }

    #[test]
    fn reservations_must_leave_a_hundred_unreserved() {
        // 1000, of which 55 reserved by another stage: 945 unreserved.
        let fit = Fit::new(account(1000, 945), 0, 845);
        assert!(fit.fits(), "{fit:?}");
        assert_eq!((fit.others, fit.unreserved_after), (55, 100));
        let fit = Fit::new(account(1000, 945), 0, 846);
        assert!(!fit.fits());
        assert_eq!(fit.quota_needed(), 55 + 846 + 100);
    }

    #[test]
    fn what_the_stage_reserves_now_is_given_back_first() {
        // The stage reserves 15 now; the account's 200 has 100 unreserved, so
        // other functions hold 85. Raising to 20 would leave 95: refused.
        let fit = Fit::new(account(200, 100), 15, 20);
        assert_eq!(fit.others, 85);
        assert!(!fit.fits());
        // Keeping 15, or lowering it, is always accepted.
        assert!(Fit::new(account(200, 100), 15, 15).fits());
        assert!(Fit::new(account(200, 100), 15, 5).fits());
    }

    #[test]
    fn reservations_are_read_from_the_functions_of_a_template() {
        let template = "Resources:\n  ApiFunction:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt ApiRole.Arn\n      ReservedConcurrentExecutions: 10\n  WorkerFunction:\n    Type: AWS::Lambda::Function\n    Properties:\n      MemorySize: 256\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      ReservedConcurrentExecutions: 99\n";
        let found = reservations(template).unwrap();
        assert_eq!(found, BTreeMap::from([("ApiFunction".to_string(), 10)]));
        let bad = "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      ReservedConcurrentExecutions: !Ref N\n";
        assert!(reservations(bad).unwrap_err().contains("F's"));
        assert!(reservations("Resources: [").is_err());
    }
}
