# The roles of a stage account:
#
#   countries-delivery-<stage>-cloudformation  CloudFormation's execution role of
#       countries-<stage>, the function boundary, and
#       countries-delivery-<stage>-codedeploy, CodeDeploy's role for the api's
#       traffic shift: the module infrastructure/ applies for the stages in its
#       own account, so they are the same.
#   countries-delivery-<stage>-deployer  what the deployer assumes (the stage
#       file's deploy_role_arn) for every command on the stage: change sets on
#       countries-<stage> with the execution role only, the functions' logs.
#       Trusted by the tooling account's CodeBuild deploy role of this stage,
#       and the operator roles named, nothing else.
#   countries-delivery-<stage>-reader  reads countries-<stage> (what it runs),
#       for the next stage's promotion (the stage file's reader_role_arn).
#       Trusted by the tooling account's CodeBuild deploy roles of the stages
#       promoted from this one; none for prod.
#
# Why the trust policies name the tooling account with an aws:PrincipalArn
# condition rather than the role as principal: this account is applied before
# the tooling account, and IAM refuses a principal that does not exist yet (it
# also turns a named role into an id that a re-created role no longer
# matches). The condition names the roles exactly, so nothing broader than
# them is trusted (tests/stage_account.tftest.hcl checks it).

module "stage_roles" {
  source = "../modules/stage-roles"

  stages                                = [var.stage]
  account_id                            = local.account_id
  partition                             = local.partition
  region                                = local.region
  artifact_bucket_arn                   = local.artifact_bucket_arn
  artifact_key_arn                      = local.artifact_key_arn
  artifact_key_alias                    = local.artifact_key_alias
  alarm_topic_arn                       = aws_sns_topic.alarms.arn
  enforce_function_permissions_boundary = var.enforce_function_permissions_boundary
  upstream_api_key_parameter_path       = var.upstream_api_key_parameter_path
}

# --- who may assume the deployer and reader roles ---------------------------------

data "aws_iam_policy_document" "assume" {
  for_each = merge(
    { deployer = concat([local.tooling_deploy_role_arn[var.stage]], var.operator_role_arns) },
    length(local.promoted_to) > 0 ? { reader = concat([for s in local.promoted_to : local.tooling_deploy_role_arn[s]], var.operator_role_arns) } : {},
  )

  statement {
    sid     = "NamedRoles"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = sort(distinct([for arn in each.value : "arn:${local.partition}:iam::${split(":", arn)[4]}:root"]))
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:PrincipalArn"
      values   = each.value
    }
    dynamic "condition" {
      for_each = length(var.external_ids) > 0 ? [var.external_ids] : []
      content {
        test     = "StringEquals"
        variable = "sts:ExternalId"
        values   = condition.value
      }
    }
    dynamic "condition" {
      for_each = var.organization_id == null ? [] : [var.organization_id]
      content {
        test     = "StringEquals"
        variable = "aws:PrincipalOrgID"
        values   = [condition.value]
      }
    }
  }
}

# --- the deployer role ------------------------------------------------------------

resource "aws_iam_role" "deployer" {
  name                 = "${local.project}-delivery-${var.stage}-deployer"
  description          = "Assumed by the deployer (countries-deploy-${var.stage} in account ${var.tooling_account_id}) to deploy countries-${var.stage}."
  assume_role_policy   = data.aws_iam_policy_document.assume["deployer"].json
  max_session_duration = 3600
}

# The stack side of a deploy: the same document the tooling account gives the
# CodeBuild deploy role of a stage that runs there.
module "stack_deploy_policy" {
  source = "../modules/stack-deploy-policy"

  stack_arn          = local.stack_arn
  execution_role_arn = module.stage_roles.execution_role_arns[var.stage]
}

data "aws_iam_policy_document" "deployer" {
  source_policy_documents = [module.stack_deploy_policy.json]

  # `deployer logs <stage>`: the functions' log lines.
  statement {
    sid     = "ReadFunctionLogs"
    actions = ["logs:FilterLogEvents"]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.project}-*-${var.stage}",
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.project}-*-${var.stage}:*",
    ]
  }

  # `deployer status <stage>` shows the stage's monthly upstream budget: the
  # counter items of its status table (`budget#<month>`), nothing else.
  statement {
    sid       = "ReadUpstreamBudget"
    actions   = ["dynamodb:GetItem"]
    resources = ["arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/status-${var.stage}"]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["budget#*"]
    }
  }

  # `deployer down <stage>`, only while var.allow_stack_deletion is on.
  dynamic "statement" {
    for_each = var.allow_stack_deletion ? [local.stack_arn] : []
    content {
      sid       = "DeleteOwnStack"
      actions   = ["cloudformation:DeleteStack"]
      resources = [statement.value]
      condition {
        test     = "ArnEquals"
        variable = "cloudformation:RoleArn"
        values   = [module.stage_roles.execution_role_arns[var.stage]]
      }
    }
  }
}

resource "aws_iam_role_policy" "deployer" {
  name   = "deploy-${var.stage}"
  role   = aws_iam_role.deployer.id
  policy = data.aws_iam_policy_document.deployer.json
}

# --- the reader role ------------------------------------------------------------------

resource "aws_iam_role" "reader" {
  count = length(local.promoted_to) > 0 ? 1 : 0

  name                 = "${local.project}-delivery-${var.stage}-reader"
  description          = "Assumed by the deploys of ${join(", ", local.promoted_to)} (account ${var.tooling_account_id}) to read what countries-${var.stage} runs."
  assume_role_policy   = data.aws_iam_policy_document.assume["reader"].json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "reader" {
  statement {
    sid = "ReadStageStack"
    actions = [
      "cloudformation:DescribeStackResources",
      "cloudformation:DescribeStacks",
      "cloudformation:ListStackResources",
    ]
    resources = [local.stack_arn]
  }
}

resource "aws_iam_role_policy" "reader" {
  count = length(aws_iam_role.reader)

  name   = "read-${var.stage}"
  role   = aws_iam_role.reader[0].id
  policy = data.aws_iam_policy_document.reader.json
}
