//! Whether an output that is there can serve a stage: an ARN in the stage's
//! account (and region, for regional resources), a bucket Terraform named for
//! the stage's account and region. Pure.

use crate::stage::Stage;

/// An ARN must be in the stage's account (and region, for regional resources),
/// or the stack would point at something it cannot use.
pub(super) fn check_arn(
    stage: &Stage,
    arn: &str,
    regional: bool,
) -> std::result::Result<(), String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!("is `{arn}`, which is not an ARN"));
    }
    if parts[4] != stage.spec.account {
        return Err(format!(
            "is in account {} but stage {} runs in account {}",
            parts[4], stage.name, stage.spec.account
        ));
    }
    if regional && parts[3] != stage.spec.region {
        return Err(format!(
            "is in region {} but stage {} runs in {}",
            parts[3], stage.name, stage.spec.region
        ));
    }
    Ok(())
}

/// Terraform names the artifact bucket `countries-artifacts-<account>-<region>`
/// unless told otherwise (infrastructure/locals.tf): such a name says where the
/// bucket is, and Lambda loads a function's code only from a bucket in the
/// function's own region. Other names cannot tell and pass.
pub(super) fn check_bucket(stage: &Stage, bucket: &str) -> std::result::Result<(), String> {
    let Some((account, region)) = bucket
        .strip_prefix("countries-artifacts-")
        .and_then(|rest| rest.split_once('-'))
    else {
        return Ok(());
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    if account != stage.spec.account {
        return Err(format!(
            "is `{bucket}`, the bucket Terraform made in account {account}, but stage {} runs in account {}",
            stage.name, stage.spec.account
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
