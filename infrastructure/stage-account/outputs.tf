# What the others need from a stage account:
#   tooling_inputs   -> infrastructure/ variable stage_accounts["<stage>"]
#   deploy_role_arn, reader_role_arn -> stages/<stage>.yaml
# (docs/delivery.md, "One account per stage", says where each goes.)

output "stage" {
  description = "The stage this account runs."
  value       = var.stage
}

output "account_id" {
  description = "This account: the stage file's `account`."
  value       = local.account_id
}

output "deploy_role_arn" {
  description = "The role the deployer assumes for every command on this stage: the stage file's deploy_role_arn."
  value       = aws_iam_role.deployer.arn
}

output "reader_role_arn" {
  description = "The role the next stage's promotion reads this stage's stack with: the stage file's reader_role_arn. Null for prod (nothing is promoted from it)."
  value       = one(aws_iam_role.reader[*].arn)
}

output "execution_role_arn" {
  description = "CloudFormation's execution role of countries-<stage>."
  value       = module.stage_roles.execution_role_arns[var.stage]
}

output "function_boundary_arn" {
  description = "The permissions boundary countries-<stage>-function-boundary."
  value       = module.stage_roles.function_boundaries[var.stage].arn
}

output "codedeploy_role_arn" {
  description = "CodeDeploy's service role for countries-<stage>'s api traffic shift (a deployment group's role must be in the stack's account)."
  value       = module.stage_roles.codedeploy_role_arns[var.stage]
}

output "alarm_topic_arn" {
  description = "The stage's alarm topic."
  value       = aws_sns_topic.alarms.arn
}

output "tooling_inputs" {
  description = "This stage's entry of the tooling root's variable stage_accounts: the tooling account grants its execution role read of the function zips, lets its CodeBuild deploy role assume the deploy role, and hands the alarm topic and CodeDeploy role to the deployer."
  value = {
    account_id          = local.account_id
    execution_role_arn  = module.stage_roles.execution_role_arns[var.stage]
    deploy_role_arn     = aws_iam_role.deployer.arn
    reader_role_arn     = one(aws_iam_role.reader[*].arn)
    alarm_topic_arn     = aws_sns_topic.alarms.arn
    codedeploy_role_arn = module.stage_roles.codedeploy_role_arns[var.stage]
  }
}
