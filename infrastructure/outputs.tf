# The Terraform outputs the deployer reads: exactly the outputs named in
# docs/contract.md ("Terraform outputs the deployer reads"), including
# stage_alarm_topic_arns, which only stages in their own account use. Their values are
# defined once, in local.deployer_outputs (outputs_file.tf), which also
# writes them to the artifact bucket for CodeBuild.

output "artifact_bucket" {
  description = "Bucket the deployer uploads packaged functions to (functions/<name>/<sha256>.zip)."
  value       = local.deployer_outputs.artifact_bucket
}

output "alarm_topic_arn" {
  description = "SNS topic the stage stacks' alarms notify."
  value       = local.deployer_outputs.alarm_topic_arn
}

output "cloudformation_execution_role_arns" {
  description = "CloudFormation execution role for the countries-<stage> stack, by stage."
  value       = local.deployer_outputs.cloudformation_execution_role_arns
}

output "pipeline_name" {
  description = "Name of the delivery pipeline (deployer status / promote)."
  value       = local.deployer_outputs.pipeline_name
}

output "codedeploy_role_arns" {
  description = "CodeDeploy's service role for the countries-<stage> api's traffic shift, by stage: in the stage's account (var.stage_accounts' codedeploy_role_arn for a stage in its own account)."
  value       = local.deployer_outputs.codedeploy_role_arns
}

output "github_token_secret_arn" {
  description = "Secrets Manager secret holding the GitHub token for pull-request plan comments (value set by hand)."
  value       = local.deployer_outputs.github_token_secret_arn
}

output "stage_alarm_topic_arns" {
  description = "The alarm topic of each stage that runs in its own account (var.stage_accounts), by stage; the deployer uses it instead of alarm_topic_arn for those stages. Empty in a one-account setup."
  value       = local.deployer_outputs.stage_alarm_topic_arns
}
