//! Whether an output that is there can serve a stage: an ARN in the stage's
//! account (and region, for regional resources), a bucket Terraform named for
//! the foundation's account and the stage's region. Pure.

use crate::stage::Stage;

/// An ARN must be one, in `account` (and in `region` when given), where `whose`
/// (for the message: "stage dev", "the foundation") runs. Pure.
pub(super) fn arn_in(
    arn: &str,
    account: &str,
    region: Option<&str>,
    whose: &str,
) -> Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!("is `{arn}`, which is not an ARN"));
    }
    if parts[4] != account {
        return Err(format!(
            "is in account {} but {whose} runs in account {account}",
            parts[4]
        ));
    }
    match region {
        Some(region) if parts[3] != region => Err(format!(
            "is in region {} but {whose} runs in {region}",
            parts[3]
        )),
        _ => Ok(()),
    }
}

/// An ARN must be in the stage's account (and region, for regional resources),
/// or the stack would point at something it cannot use.
pub(super) fn check_arn(stage: &Stage, arn: &str, regional: bool) -> Result<(), String> {
    let region = regional.then_some(stage.spec.region.as_str());
    arn_in(
        arn,
        &stage.spec.account,
        region,
        &format!("stage {}", stage.name),
    )
}

/// Terraform names the artifact bucket `countries-artifacts-<account>-<region>`
/// unless told otherwise (infrastructure/locals.tf): such a name says where the
/// bucket is. It must be in `account` (the foundation's: the stage's own,
/// unless the stage runs in an account of its own and reads the tooling
/// account's bucket) and in the stage's region, since Lambda loads a function's
/// code only from a bucket in the function's own region. Other names cannot
/// tell and pass.
pub(super) fn check_bucket(stage: &Stage, bucket: &str, account: &str) -> Result<(), String> {
    let Some((named, region)) = bucket
        .strip_prefix("countries-artifacts-")
        .and_then(|rest| rest.split_once('-'))
    else {
        return Ok(());
    };
    if named.len() != 12 || !named.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    if named != account {
        let whose = if account == stage.spec.account {
            format!("stage {} runs", stage.name)
        } else {
            "the foundation (its alarm_topic_arn) is".to_string()
        };
        return Err(format!(
            "is `{bucket}`, the bucket Terraform made in account {named}, but {whose} in account {account}"
        ));
    }
    if region != stage.spec.region {
        return Err(format!(
            "is `{bucket}`, a bucket in region {region}, but stage {} runs in {} (Lambda loads code only from its own region)",
            stage.name, stage.spec.region
        ));
    }
    Ok(())
}
