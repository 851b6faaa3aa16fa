# Releases (docs/delivery.md, "What happens when a release goes bad").
#
# A stage whose api shifts traffic by canary or linear steps
# (release.api_traffic in stages/<stage>.yaml) has a CodeDeploy application
# and deployment group in its stack. CodeDeploy moves the api's `live` alias
# with the service role below, one per stage, and may touch only that stage.
# A deployment group's service role must be in the stack's account, so it is
# here, beside the execution role: infrastructure/ creates it for the stages
# of the tooling account, infrastructure/stage-account/ in a stage's own
# account (its output codedeploy_role_arn, which the tooling root's
# stage_accounts hands on to the deployer as codedeploy_role_arns).
#
#   cloudwatch:DescribeAlarms        the deployment group's alarms (ApiErrors, Api5xx)
#   lambda:GetAlias, UpdateAlias     the stage's function aliases: the traffic shift itself
#   lambda:GetProvisionedConcurrencyConfig
#                                    read before shifting an alias (none is configured)
#
# What AWSCodeDeployRoleForLambda also grants, and this role does not:
#   lambda:InvokeFunction  only for lifecycle hooks (BeforeAllowTraffic /
#                          AfterAllowTraffic); the deployment group runs none.
#   sns:Publish            only for deployment-group triggers; none are configured
#                          (the alarms notify the alarm topic themselves).
#   s3:GetObject*          only for revisions stored in S3; CloudFormation hands
#                          CodeDeploy the AppSpec inline.
#
# The execution role of each stage (iam_cloudformation.tf) gets what
# CloudFormation's handlers call for versions, aliases and the CodeDeploy
# resources, and may pass this role to CodeDeploy only: a second inline
# policy on it, below.

data "aws_iam_policy_document" "codedeploy_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codedeploy.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "codedeploy" {
  for_each = toset(local.stages)

  name                 = "${local.project}-delivery-${each.key}-codedeploy"
  description          = "CodeDeploy service role: shifts the countries-${each.key} api's live alias."
  assume_role_policy   = data.aws_iam_policy_document.codedeploy_assume.json
  max_session_duration = 3600
}

locals {
  # CodeDeploy names in the stage stacks (templates/stack.yaml.hbs, "releases").
  codedeploy_arns = {
    for s in local.stages : s => {
      application      = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:application:${local.project}-${s}"
      deployment_group = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentgroup:${local.project}-${s}/${local.project}-*-${s}"
    }
  }
  # The predefined Lambda deployment configurations the stage files may name.
  codedeploy_lambda_configs = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentconfig:CodeDeployDefault.Lambda*"
}

data "aws_iam_policy_document" "codedeploy" {
  for_each = toset(local.stages)

  statement {
    sid       = "ReadReleaseAlarms"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = local.stage_arns[each.key].alarms
  }

  statement {
    sid = "ShiftLiveAliases"
    actions = [
      "lambda:GetAlias",
      "lambda:GetProvisionedConcurrencyConfig",
      "lambda:UpdateAlias",
    ]
    resources = [local.stage_arns[each.key].functions, "${local.stage_arns[each.key].functions}:*"]
  }
}

resource "aws_iam_role_policy" "codedeploy" {
  for_each = toset(local.stages)

  name   = "shift-${each.key}"
  role   = aws_iam_role.codedeploy[each.key].id
  policy = data.aws_iam_policy_document.codedeploy[each.key].json
}

# --- the execution role: versions, aliases, CodeDeploy ------------------------------
# The handler permissions of AWS::Lambda::Version, AWS::Lambda::Alias (whose
# update starts the CodeDeploy deployment when the alias has an UpdatePolicy),
# AWS::CodeDeploy::Application and AWS::CodeDeploy::DeploymentGroup, on the
# stage's own functions and CodeDeploy names. Those the template never needs
# are in execution-role-exceptions.yaml with the reason.

data "aws_iam_policy_document" "cloudformation_releases" {
  for_each = toset(local.stages)

  statement {
    sid = "VersionsAndAliases"
    actions = [
      "lambda:CreateAlias",
      "lambda:DeleteAlias",
      "lambda:GetAlias",
      "lambda:GetProvisionedConcurrencyConfig",
      "lambda:UpdateAlias",
    ]
    resources = [local.stage_arns[each.key].functions, "${local.stage_arns[each.key].functions}:*"]
  }

  statement {
    sid = "CodeDeployApplication"
    actions = [
      "codedeploy:CreateApplication",
      "codedeploy:DeleteApplication",
      "codedeploy:GetApplication",
      "codedeploy:GetApplicationRevision",
      "codedeploy:ListTagsForResource",
      "codedeploy:RegisterApplicationRevision",
      "codedeploy:TagResource",
      "codedeploy:UntagResource",
    ]
    resources = [local.codedeploy_arns[each.key].application]
  }

  statement {
    sid = "CodeDeployDeploymentGroup"
    actions = [
      "codedeploy:CreateDeployment",
      "codedeploy:CreateDeploymentGroup",
      "codedeploy:DeleteDeploymentGroup",
      "codedeploy:GetDeployment",
      "codedeploy:GetDeploymentGroup",
      "codedeploy:ListDeployments",
      "codedeploy:ListTagsForResource",
      "codedeploy:StopDeployment",
      "codedeploy:TagResource",
      "codedeploy:UntagResource",
      "codedeploy:UpdateDeploymentGroup",
    ]
    resources = [local.codedeploy_arns[each.key].deployment_group]
  }

  statement {
    sid       = "CodeDeployConfigs"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = [local.codedeploy_lambda_configs]
  }

  statement {
    sid       = "PassCodeDeployRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.codedeploy[each.key].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["codedeploy.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "cloudformation_releases" {
  for_each = toset(local.stages)

  name   = "stack-${each.key}-releases"
  role   = aws_iam_role.cloudformation[each.key].id
  policy = data.aws_iam_policy_document.cloudformation_releases[each.key].json
}
