# What the calling root needs: the roles' ARNs (the deployer's
# cloudformation_execution_role_arns and codedeploy_role_arns, the deploy
# roles' iam:PassRole) and the rendered documents, which the roots' tests
# assert on.

output "execution_role_arns" {
  description = "CloudFormation execution role of countries-<stage>, by stage."
  value       = { for s, r in aws_iam_role.cloudformation : s => r.arn }
}

output "execution_roles" {
  description = "Each execution role as created (name, id, arn, trust policy) and its two inline policies (the stack's: policy_role, policy; releases: releases_role, releases_policy), by stage."
  value = {
    for s, r in aws_iam_role.cloudformation : s => {
      name               = r.name
      id                 = r.id
      arn                = r.arn
      assume_role_policy = r.assume_role_policy
      policy_role        = aws_iam_role_policy.cloudformation[s].role
      policy             = aws_iam_role_policy.cloudformation[s].policy
      releases_role      = aws_iam_role_policy.cloudformation_releases[s].role
      releases_policy    = aws_iam_role_policy.cloudformation_releases[s].policy
    }
  }
}

output "codedeploy_role_arns" {
  description = "CodeDeploy's service role for the countries-<stage> api's traffic shift, by stage."
  value       = { for s, r in aws_iam_role.codedeploy : s => r.arn }
}

output "codedeploy_roles" {
  description = "Each CodeDeploy service role as created (name, id, arn, trust policy) and its inline policy (role, policy), by stage."
  value = {
    for s, r in aws_iam_role.codedeploy : s => {
      name               = r.name
      id                 = r.id
      arn                = r.arn
      assume_role_policy = r.assume_role_policy
      policy_role        = aws_iam_role_policy.codedeploy[s].role
      policy             = aws_iam_role_policy.codedeploy[s].policy
    }
  }
}

output "function_boundaries" {
  description = "The permissions boundary countries-<stage>-function-boundary (name, arn, policy), by stage."
  value = {
    for s, p in aws_iam_policy.function_boundary : s => {
      name   = p.name
      arn    = p.arn
      policy = p.policy
    }
  }
}
