# Which stages run in this account and which in an account of their own
# (var.stage_accounts), and the execution roles of the ones that run here.
#
# A stage here: its execution role, function boundary and CodeDeploy role come from
# modules/stage-roles (the module infrastructure/stage-account also applies
# in a stage's own account), and its CodeBuild deploy role works on its stack
# directly (iam_codebuild.tf).
# A stage in its own account: none of that here. Its CodeBuild deploy role
# assumes the stage's deploy role there (the deployer does, from the stage
# file's deploy_role_arn); the artifact bucket (artifacts.tf) and the key
# (kms.tf) let its execution role read the function zips, nothing more.

locals {
  remote_stages = [for s in local.stages : s if contains(keys(var.stage_accounts), s)]
  local_stages  = [for s in local.stages : s if !contains(keys(var.stage_accounts), s)]

  # The execution role of every stage, wherever it is (output
  # cloudformation_execution_role_arns; the deploy roles pass the local ones).
  execution_role_arns = merge(
    module.stage_roles.execution_role_arns,
    { for s, a in var.stage_accounts : s => a.execution_role_arn },
  )

  # CodeDeploy's role of every stage, in the stage's own account (output
  # codedeploy_role_arns: a deployment group's service role must be in the
  # stack's account).
  codedeploy_role_arns = merge(
    module.stage_roles.codedeploy_role_arns,
    { for s, a in var.stage_accounts : s => a.codedeploy_role_arn },
  )

  # The alarm topic of each stage in its own account (output stage_alarm_topic_arns).
  stage_alarm_topic_arns = { for s, a in var.stage_accounts : s => a.alarm_topic_arn }
}

module "stage_roles" {
  source = "./modules/stage-roles"

  stages                                = local.local_stages
  account_id                            = local.account_id
  partition                             = local.partition
  region                                = local.region
  artifact_bucket_arn                   = local.artifact_bucket_arn
  artifact_key_arn                      = aws_kms_key.delivery.arn
  alarm_topic_arn                       = aws_sns_topic.notifications.arn
  enforce_function_permissions_boundary = var.enforce_function_permissions_boundary
  upstream_api_key_parameter_path       = var.upstream_api_key_parameter_path
}

# Where these were before the module existed: applying keeps them.
moved {
  from = aws_iam_role.cloudformation
  to   = module.stage_roles.aws_iam_role.cloudformation
}

moved {
  from = aws_iam_role_policy.cloudformation
  to   = module.stage_roles.aws_iam_role_policy.cloudformation
}

moved {
  from = aws_iam_policy.function_boundary
  to   = module.stage_roles.aws_iam_policy.function_boundary
}
