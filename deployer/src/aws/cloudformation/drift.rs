//! CloudFormation drift detection: start it, wait for it, read what drifted.

use super::CloudFormation;
use crate::aws::call_error;
use crate::error::Result;

/// A detection run's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// `DETECTION_IN_PROGRESS`, `DETECTION_COMPLETE`, `DETECTION_FAILED`.
    pub status: String,
    /// `DRIFTED`, `IN_SYNC`, `UNKNOWN`, `NOT_CHECKED`.
    pub drift: Option<String>,
    /// Why a detection failed (or checked only part of the stack).
    pub reason: Option<String>,
}

/// One property that differs from the template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PropertyDifference {
    /// e.g. `/MemorySize`.
    pub path: String,
    /// What the template says.
    pub expected: String,
    /// What the resource has.
    pub actual: String,
    /// `ADD`, `REMOVE`, `NOT_EQUAL`.
    pub difference: String,
}

/// A resource that differs from the template (modified or deleted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceDrift {
    /// Logical id.
    pub logical_id: String,
    /// Physical id.
    pub physical_id: Option<String>,
    /// e.g. `AWS::Lambda::Function`.
    pub resource_type: String,
    /// `MODIFIED` or `DELETED`.
    pub status: String,
    /// The properties that differ.
    pub differences: Vec<PropertyDifference>,
}

impl CloudFormation {
    /// Starts drift detection on the stack; its detection id.
    pub async fn detect_drift(&self, stack: &str) -> Result<String> {
        let out = self
            .client
            .detect_stack_drift()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| call_error("DetectStackDrift", &e))?;
        Ok(out
            .stack_drift_detection_id()
            .unwrap_or_default()
            .to_string())
    }

    /// Where a detection run is.
    pub async fn drift_detection(&self, id: &str) -> Result<Detection> {
        let out = self
            .client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(id)
            .send()
            .await
            .map_err(|e| call_error("DescribeStackDriftDetectionStatus", &e))?;
        Ok(Detection {
            status: out
                .detection_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            drift: out.stack_drift_status().map(|s| s.as_str().to_string()),
            reason: out.detection_status_reason().map(str::to_string),
        })
    }

    /// The stack's modified and deleted resources (every page).
    pub async fn drifted_resources(&self, stack: &str) -> Result<Vec<ResourceDrift>> {
        use aws_sdk_cloudformation::types::StackResourceDriftStatus as S;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .stack_resource_drift_status_filters(S::Modified)
                .stack_resource_drift_status_filters(S::Deleted)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| call_error("DescribeStackResourceDrifts", &e))?;
            for r in page.stack_resource_drifts() {
                out.push(ResourceDrift {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: r.physical_resource_id().map(str::to_string),
                    resource_type: r.resource_type().unwrap_or_default().to_string(),
                    status: r
                        .stack_resource_drift_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    differences: r
                        .property_differences()
                        .iter()
                        .map(|d| PropertyDifference {
                            path: d.property_path().unwrap_or_default().to_string(),
                            expected: d.expected_value().unwrap_or_default().to_string(),
                            actual: d.actual_value().unwrap_or_default().to_string(),
                            difference: d
                                .difference_type()
                                .map(|t| t.as_str().to_string())
                                .unwrap_or_default(),
                        })
                        .collect(),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(out);
            }
        }
    }
}
