//! `Stacks` on aws-sdk-cloudformation: the one real implementation.

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType, Parameter, RollbackConfiguration, RollbackTrigger, Tag,
};

use super::*;
use crate::aws::{call_error, describe_error};
use crate::error::{AwsError, AwsKind, DeployError, Error, Result};

/// The real CloudFormation client.
#[derive(Debug, Clone)]
pub struct CloudFormation {
    pub(super) client: Client,
}

/// The standard variable for CloudFormation's own endpoint; it wins over `--endpoint-url`
/// (the tests put a recording proxy or recorded answers there).
pub const ENDPOINT_ENV: &str = "AWS_ENDPOINT_URL_CLOUDFORMATION";

impl CloudFormation {
    /// A client for the configured target; `AWS_ENDPOINT_URL_CLOUDFORMATION` wins over `--endpoint-url`.
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        let mut conf = aws_sdk_cloudformation::config::Builder::from(config);
        if let Ok(url) = std::env::var(ENDPOINT_ENV)
            && !url.is_empty()
        {
            conf = conf.endpoint_url(url);
        }
        CloudFormation {
            client: Client::from_conf(conf.build()),
        }
    }
}

fn time(t: Option<&aws_sdk_cloudformation::primitives::DateTime>) -> Option<String> {
    t.and_then(|t| {
        t.fmt(aws_sdk_cloudformation::primitives::DateTimeFormat::DateTime)
            .ok()
    })
}

impl Stacks for CloudFormation {
    async fn describe_stack(&self, name: &str) -> Result<Option<StackInfo>> {
        let out = match self.client.describe_stacks().stack_name(name).send().await {
            Ok(out) => out,
            Err(err) => {
                // DescribeStacks has no modelled not-found error: a missing stack is a
                // ValidationError whose message says "does not exist".
                let code = err.as_service_error().and_then(|e| e.meta().code());
                if code == Some("ValidationError")
                    && describe_error(&err).contains("does not exist")
                {
                    return Ok(None);
                }
                return Err(call_error("DescribeStacks", &err));
            }
        };
        let Some(stack) = out.stacks().first() else {
            return Ok(None);
        };
        let status = stack
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        Ok(Some(StackInfo {
            id: stack.stack_id().unwrap_or_default().to_string(),
            name: stack.stack_name().unwrap_or(name).to_string(),
            status,
            status_reason: stack.stack_status_reason().map(str::to_string),
            parameters: stack
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.parameter_key()?.to_string(),
                        p.parameter_value().unwrap_or_default().to_string(),
                    ))
                })
                .collect(),
            tags: stack
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
                .collect(),
            outputs: stack
                .outputs()
                .iter()
                .filter_map(|o| {
                    Some((
                        o.output_key()?.to_string(),
                        o.output_value().unwrap_or_default().to_string(),
                    ))
                })
                .collect(),
            updated_at: time(stack.last_updated_time().or(stack.creation_time())),
        }))
    }

    async fn template(&self, name: &str) -> Result<String> {
        let out = self
            .client
            .get_template()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| call_error("GetTemplate", &e))?;
        Ok(out.template_body().unwrap_or_default().to_string())
    }

    async fn create_change_set(&self, request: &ChangeSetRequest) -> Result<Created> {
        let mut call = self
            .client
            .create_change_set()
            .stack_name(&request.stack_name)
            .change_set_name(&request.change_set_name)
            .change_set_type(if request.create {
                ChangeSetType::Create
            } else {
                ChangeSetType::Update
            })
            .template_body(&request.template)
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .description("deployer");
        for (key, value) in &request.parameters {
            call = call.parameters(
                Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(value)
                    .build(),
            );
        }
        for (key, value) in &request.tags {
            call = call.tags(Tag::builder().key(key).value(value).build());
        }
        if let Some(role) = &request.role_arn {
            call = call.role_arn(role);
        }
        if let Some((triggers, minutes)) = &request.rollback {
            // Always explicit: an empty list clears the triggers a stack kept from before.
            let triggers = triggers
                .iter()
                .map(|arn| {
                    RollbackTrigger::builder()
                        .arn(arn)
                        .r#type("AWS::CloudWatch::Alarm")
                        .build()
                })
                .collect::<Vec<_>>();
            call = call.rollback_configuration(
                RollbackConfiguration::builder()
                    .set_rollback_triggers(Some(triggers))
                    .monitoring_time_in_minutes(*minutes as i32)
                    .build(),
            );
        }
        match call.send().await {
            Ok(out) => Ok(Created::ChangeSet(out.id().unwrap_or_default().to_string())),
            Err(err) => {
                // "Nothing changed" has no error code of its own: it is the message text.
                if is_no_changes(&describe_error(&err)) {
                    Ok(Created::NoChanges)
                } else {
                    Err(call_error("CreateChangeSet", &err))
                }
            }
        }
    }

    async fn wait_change_set(
        &self,
        stack: &str,
        id: &str,
        deadline: std::time::Duration,
    ) -> Result<ChangeSetInfo> {
        use aws_sdk_cloudformation::client::Waiters;
        use aws_sdk_cloudformation::waiters::change_set_create_complete::WaitUntilChangeSetCreateCompleteError as WaitError;
        // The SDK's waiter: an immediate first poll, then at least 30 s between polls
        // (see deploy::policy::change_set_deadline for the trade-off).
        let waited = self
            .client
            .wait_until_change_set_create_complete()
            .change_set_name(id)
            .wait(deadline)
            .await;
        match waited {
            // Created, or failed (FAILED, e.g. "no changes"): the caller reads the status and
            // reason, as before, from every page of the description.
            Ok(_) | Err(WaitError::FailureState(_)) => self.describe_change_set(id).await,
            Err(WaitError::ExceededMaxWait(_)) => Err(DeployError::ChangeSetTimeout {
                stack: stack.to_string(),
                waited: deadline.as_secs(),
            }
            .into()),
            Err(WaitError::OperationFailed(e)) => Err(call_error("DescribeChangeSet", e.error())),
            Err(other) => Err(Error::from(AwsError::Call {
                action: "DescribeChangeSet".into(),
                message: other.to_string(),
                kind: AwsKind::Other,
            })),
        }
    }

    async fn describe_change_set(&self, id: &str) -> Result<ChangeSetInfo> {
        let mut info = ChangeSetInfo {
            status: String::new(),
            reason: None,
            changes: vec![],
        };
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_change_set()
                .change_set_name(id)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| call_error("DescribeChangeSet", &e))?;
            info.status = out
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            info.reason = out.status_reason().map(str::to_string);
            for change in out.changes() {
                let Some(rc) = change.resource_change() else {
                    continue;
                };
                info.changes.push(RawChange {
                    action: rc
                        .action()
                        .map(|a| a.as_str().to_string())
                        .unwrap_or_default(),
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: rc.resource_type().unwrap_or_default().to_string(),
                    replacement: rc.replacement().map(|r| r.as_str().to_string()),
                    scope: rc.scope().iter().map(|s| s.as_str().to_string()).collect(),
                });
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(info);
            }
        }
    }

    async fn execute_change_set(&self, id: &str) -> Result<()> {
        self.client
            .execute_change_set()
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| call_error("ExecuteChangeSet", &e))?;
        Ok(())
    }

    async fn delete_change_set(&self, id: &str) -> Result<()> {
        self.client
            .delete_change_set()
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| call_error("DeleteChangeSet", &e))?;
        Ok(())
    }

    async fn events(&self, stack: &str, after_id: Option<&str>) -> Result<Vec<StackEvent>> {
        let mut events = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stack_events()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| call_error("DescribeStackEvents", &e))?;
            for e in out.stack_events() {
                let id = e.event_id().unwrap_or_default().to_string();
                if after_id == Some(id.as_str()) {
                    return Ok(events);
                }
                events.push(StackEvent {
                    id,
                    timestamp: time(e.timestamp()).unwrap_or_default(),
                    logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: e.resource_type().unwrap_or_default().to_string(),
                    status: e
                        .resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    reason: e.resource_status_reason().map(str::to_string),
                });
            }
            token = out.next_token().map(str::to_string);
            // Without a marker, the first page (the newest events) is enough.
            if token.is_none() || after_id.is_none() {
                return Ok(events);
            }
        }
    }

    async fn resources(&self, stack: &str) -> Result<Vec<StackResource>> {
        let out = self
            .client
            .describe_stack_resources()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| call_error("DescribeStackResources", &e))?;
        Ok(out
            .stack_resources()
            .iter()
            .map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                physical_id: r.physical_resource_id().map(str::to_string),
                resource_type: r.resource_type().unwrap_or_default().to_string(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
            .collect())
    }

    async fn delete_stack(&self, stack: &str, role_arn: Option<&str>) -> Result<()> {
        self.client
            .delete_stack()
            .stack_name(stack)
            .set_role_arn(role_arn.map(str::to_string))
            .send()
            .await
            .map_err(|e| call_error("DeleteStack", &e))?;
        Ok(())
    }
}
