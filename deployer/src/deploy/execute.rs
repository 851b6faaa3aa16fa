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
    follow(
        cfn,
        &stack.id,
        &d.stack_name,
        marker,
        d.poll(),
        d.local,
        display,
    )
    .await
}
