//! Running a plan: upload the missing zips, execute the change set, follow.

use crate::aws::cloudformation::{StackInfo, Stacks};
use crate::aws::s3::Artifacts;
use crate::error::{AwsError, DeployError, Error, Result};
use crate::plan::{ChangeSetType, Plan};

use super::follow::follow;
use super::gather::Deployment;
use super::progress::Display;

/// Runs a plan: uploads the missing zips, executes the change set and follows the
/// stack until it settles. Returns the stack as it ended.
pub async fn execute(
    cfn: &impl Stacks,
    s3: &impl Artifacts,
    d: &Deployment,
    plan: &Plan,
    display: &Display,
) -> Result<StackInfo> {
    let Some(cs) = &plan.change_set else {
        return cfn.describe_stack(&d.stack_name).await?.ok_or_else(|| {
            Error::from(DeployError::StackMissing {
                stack: d.stack_name.clone(),
            })
        });
    };
    for step in plan.uploads() {
        // A package read from the bucket (promote, --artifact-digest) has no bytes:
        // never upload an empty zip in place of a missing one.
        let bytes = d.package.zips.get(&step.function).cloned().ok_or_else(|| {
            Error::from(DeployError::ArtifactNotInBucket {
                bucket: d.bucket.clone(),
                key: step.key.clone(),
            })
        })?;
        display.line(&format!(
            "uploading {} to s3://{}/{} ({})",
            step.function,
            d.bucket,
            step.key,
            crate::plan::render::human_size(step.size)
        ));
        s3.put(&d.bucket, &step.key, bytes).await?;
    }
    let stack = cfn.describe_stack(&d.stack_name).await?.ok_or_else(|| {
        Error::from(DeployError::StackMissing {
            stack: d.stack_name.clone(),
        })
    })?;
    let marker = cfn
        .events(&stack.id, None)
        .await?
        .first()
        .map(|e| e.id.clone());
    display.line(&format!(
        "executing change set {} on {} ({})",
        cs.name,
        d.stack_name,
        if plan.change_set_type == ChangeSetType::Create {
            "create"
        } else {
            "update"
        }
    ));
    if let Err(err) = cfn.execute_change_set(&cs.id).await {
        return Err(match (d.local, err) {
            (true, Error::Aws(AwsError::Call { message, .. })) => {
                Error::from(DeployError::EmulatorRejected {
                    stack: d.stack_name.clone(),
                    message,
                })
            }
            (_, err) => err,
        });
    }
    let followed = follow(
        cfn,
        &stack.id,
        &d.stack_name,
        marker,
        d.poll(),
        d.local,
        display,
    )
    .await;
    followed.map_err(|err| by_alarm(err, &plan.release.rollback_triggers))
}

/// A failed update whose events name one of the rollback triggers' alarms was
/// rolled back by that alarm: say which. CloudFormation's wording may change, so
/// any mention of the alarm's name (or ARN) counts. Pure.
pub fn by_alarm(err: Error, triggers: &[String]) -> Error {
    let Error::Deploy(DeployError::DeployFailed {
        stack,
        status,
        failures,
    }) = err
    else {
        return err;
    };
    let alarms: Vec<String> = triggers
        .iter()
        .map(|arn| crate::plan::release::alarm_name(arn).to_string())
        .filter(|name| failures.iter().any(|f| f.contains(name.as_str())))
        .collect();
    if alarms.is_empty() {
        return DeployError::DeployFailed {
            stack,
            status,
            failures,
        }
        .into();
    }
    DeployError::RolledBackByAlarm {
        stack,
        status,
        alarms,
        events: failures,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollback_whose_events_name_a_trigger_says_which_alarm_fired() {
        let triggers = vec![
            "arn:aws:cloudwatch:us-east-1:1:alarm:countries-prod-api-errors".to_string(),
            "arn:aws:cloudwatch:us-east-1:1:alarm:countries-prod-api-5xx".to_string(),
        ];
        let failed = |reason: &str| {
            Error::from(DeployError::DeployFailed {
                stack: "countries-prod".into(),
                status: "UPDATE_ROLLBACK_COMPLETE".into(),
                failures: vec![format!(
                    "countries-prod AWS::CloudFormation::Stack UPDATE_ROLLBACK_IN_PROGRESS: {reason}"
                )],
            })
        };
        let err = by_alarm(
            failed(
                "Rollback trigger arn:aws:cloudwatch:us-east-1:1:alarm:countries-prod-api-5xx is in ALARM state",
            ),
            &triggers,
        );
        let Error::Deploy(DeployError::RolledBackByAlarm { alarms, .. }) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(alarms, &["countries-prod-api-5xx"]);
        assert!(
            err.to_string()
                .contains("countries-prod-api-5xx went to ALARM"),
            "{err}"
        );
        assert_eq!(err.exit_code(), 1);
        // Another failure stays what it was.
        let other = by_alarm(failed("Resource creation cancelled"), &triggers);
        assert!(
            matches!(other, Error::Deploy(DeployError::DeployFailed { .. })),
            "{other:?}"
        );
    }
}
