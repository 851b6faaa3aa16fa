//! The outputs the deployer reads, and the typed value they become. Pure data.

use serde::Serialize;

/// The JSON type an output's `value` must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// Terraform `string`.
    String,
    /// Terraform `map(string)`, keyed by stage name.
    StringMapByStage,
}

/// Which stages cannot do without an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Every cloud stage.
    Always,
    /// A stage whose api shifts traffic through CodeDeploy (`release.api_traffic`
    /// other than `all_at_once`): its stack names CodeDeploy's service role.
    CodeDeployStages,
    /// None: without it the feature it serves says it is off (pull-request comments).
    Optional,
}

impl Need {
    /// Whether `stage` cannot do without an output of this need.
    pub fn applies_to(self, stage: &crate::stage::Stage) -> bool {
        match self {
            Need::Always => true,
            Need::CodeDeployStages => stage.spec.release.api_traffic.codedeploy_config().is_some(),
            Need::Optional => false,
        }
    }
}

/// One output the deployer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequiredOutput {
    /// The output's name in infrastructure/outputs.tf.
    pub name: &'static str,
    /// The type its value must have.
    pub kind: OutputKind,
    /// Why the deployer needs it.
    pub used_for: &'static str,
    /// Which stages must have it.
    pub need: Need,
}

/// Every Terraform output the deployer needs. infrastructure/outputs.tf must declare each one.
pub const REQUIRED: &[RequiredOutput] = &[
    RequiredOutput {
        name: "artifact_bucket",
        kind: OutputKind::String,
        used_for: "where packaged functions are uploaded; the stack's functions load their code from it",
        need: Need::Always,
    },
    RequiredOutput {
        name: "alarm_topic_arn",
        kind: OutputKind::String,
        used_for: "alarm actions in the stack",
        need: Need::Always,
    },
    RequiredOutput {
        name: "cloudformation_execution_role_arns",
        kind: OutputKind::StringMapByStage,
        used_for: "the role CloudFormation assumes for countries-<stage>",
        need: Need::Always,
    },
    RequiredOutput {
        name: "pipeline_name",
        kind: OutputKind::String,
        used_for: "`deployer status` and `promote`",
        need: Need::Always,
    },
    RequiredOutput {
        name: "codedeploy_role_arns",
        kind: OutputKind::StringMapByStage,
        used_for: "CodeDeploy's service role for the api's canary or linear traffic shift (stages with release.api_traffic other than all_at_once)",
        need: Need::CodeDeployStages,
    },
    RequiredOutput {
        name: "github_token_secret_arn",
        kind: OutputKind::String,
        used_for: "the Secrets Manager secret with the GitHub token `plan --post-to-pr` comments with (optional: without it the comment is skipped)",
        need: Need::Optional,
    },
];

/// The artifact bucket of the local stage (created in the emulator by `deployer up local`).
pub const LOCAL_ARTIFACT_BUCKET: &str = "countries-artifacts-local";

/// The environment variable that replaces every cloud stage's outputs source with one file.
pub const OUTPUTS_FILE_ENV: &str = "DEPLOYER_OUTPUTS_FILE";

/// One stage's outputs, checked and typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outputs {
    /// Bucket holding `functions/<name>/<sha256>.zip`.
    pub artifact_bucket: String,
    /// SNS topic for alarms; none for the local stage.
    pub alarm_topic_arn: Option<String>,
    /// The role CloudFormation assumes for this stage's stack; none locally.
    pub cloudformation_execution_role_arn: Option<String>,
    /// The CodePipeline that deploys the stages; none locally.
    pub pipeline_name: Option<String>,
    /// CodeDeploy's service role for this stage (its api's canary or linear shift); none locally.
    pub codedeploy_role_arn: Option<String>,
    /// The Secrets Manager secret holding the GitHub token for pull-request comments; none locally.
    pub github_token_secret: Option<String>,
    /// Where the values came from, for messages (not given to templates: it varies by machine).
    #[serde(skip)]
    pub source: String,
}

/// The built-in values of a local stage (it has no Terraform).
pub fn local() -> Outputs {
    Outputs {
        artifact_bucket: LOCAL_ARTIFACT_BUCKET.to_string(),
        alarm_topic_arn: None,
        cloudformation_execution_role_arn: None,
        pipeline_name: None,
        codedeploy_role_arn: None,
        github_token_secret: None,
        source: "built-in values of the local stage".to_string(),
    }
}
