# The deployer's copy of the Terraform outputs, for CodeBuild.
#
# CodeBuild has no Terraform state, so Terraform itself writes its outputs to
# s3://<artifact bucket>/deployer/terraform-outputs.json on every apply, in
# exactly the format of `terraform output -json` ({"name": {"sensitive",
# "type", "value"}}). Every CodeBuild project gets that URI as
# DEPLOYER_OUTPUTS_S3_URI; buildspec.yml copies the object to a local file and
# sets DEPLOYER_OUTPUTS_FILE to it. Written by apply, it cannot go stale the
# way a hand-copied file can. Locally, the deployer runs
# `terraform -chdir=infrastructure output -json` itself (or is given
# DEPLOYER_OUTPUTS_FILE).

locals {
  # The one definition of the outputs' values (outputs.tf reads them too).
  deployer_outputs = {
    artifact_bucket                    = aws_s3_bucket.artifacts.bucket
    alarm_topic_arn                    = aws_sns_topic.notifications.arn
    cloudformation_execution_role_arns = tomap({ for s in local.stages : s => local.execution_role_arns[s] })
    pipeline_name                      = aws_codepipeline.delivery.name
    codedeploy_role_arns               = tomap({ for s in local.stages : s => local.codedeploy_role_arns[s] })
    github_token_secret_arn            = aws_secretsmanager_secret.github_token.arn
    stage_alarm_topic_arns             = tomap(local.stage_alarm_topic_arns)
  }

  # Their types as `terraform output -json` prints them.
  deployer_output_types = {
    artifact_bucket                    = "string"
    alarm_topic_arn                    = "string"
    cloudformation_execution_role_arns = ["map", "string"]
    pipeline_name                      = "string"
    codedeploy_role_arns               = ["map", "string"]
    github_token_secret_arn            = "string"
    stage_alarm_topic_arns             = ["map", "string"]
  }
}

resource "aws_s3_object" "deployer_outputs" {
  bucket       = aws_s3_bucket.artifacts.id
  key          = local.deployer_outputs_key
  content_type = "application/json"
  content = jsonencode({
    for name, value in local.deployer_outputs : name => {
      sensitive = false
      type      = local.deployer_output_types[name]
      value     = value
    }
  })
  server_side_encryption = "aws:kms"
  kms_key_id             = aws_kms_key.delivery.arn

  depends_on = [aws_s3_bucket_server_side_encryption_configuration.artifacts]
}
