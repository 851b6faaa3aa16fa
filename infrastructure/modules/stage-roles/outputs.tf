# What the calling root needs: the roles' ARNs (the deployer's
# cloudformation_execution_role_arns, the deploy roles' iam:PassRole) and the
# rendered documents, which the roots' tests assert on.

output "execution_role_arns" {
  description = "CloudFormation execution role of countries-<stage>, by stage."
  value       = { for s, r in aws_iam_role.cloudformation : s => r.arn }
}

output "execution_roles" {
  description = "Each execution role as created (name, id, arn, trust policy) and its inline policy (role, policy), by stage."
  value = {
    for s, r in aws_iam_role.cloudformation : s => {
      name               = r.name
      id                 = r.id
      arn                = r.arn
      assume_role_policy = r.assume_role_policy
      policy_role        = aws_iam_role_policy.cloudformation[s].role
      policy             = aws_iam_role_policy.cloudformation[s].policy
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
