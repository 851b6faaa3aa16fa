# One role per CodeBuild project (codebuild.tf). Every project may write its
# own logs, read and write the pipeline's artifacts, and read the Terraform
# outputs file; beyond that:
#
#   build          its S3 cache. No CloudFormation, no AWS API of the stages:
#                  tests and packaging need none.
#   deploy-<stage> change sets on countries-<stage> only, passing only that
#                  stage's execution role; read the other stage stacks
#                  (promote reads the digests its predecessor runs); read the
#                  pipeline's state (status, approvals); upload function zips
#                  (dev only: staging and prod only promote what exists); read
#                  the account's Lambda concurrency (GetAccountSettings; in
#                  modules/stack-deploy-policy). For a stage in its own account
#                  (var.stage_accounts), no CloudFormation or Lambda here:
#                  sts:AssumeRole on exactly its deploy role there (and its
#                  predecessor's reader role).
#   pull-request   its S3 cache; create, read and delete (never execute)
#                  change sets on the planned stages' stacks; read the
#                  account's Lambda concurrency. Pull-request
#                  code runs here, so it gets no write access to anything a
#                  deploy reads: no function zips, no stack tags.

locals {
  # Stages deployed with `deployer up` (they upload function zips).
  uploading_stages = [for s in local.stages : s if local.promote_from[s] == null]

  # The roles a stage's deploy assumes in stage accounts: its own deploy role
  # there, and the reader role of a predecessor that runs in its own account.
  assumed_stage_roles = {
    for s in local.stages : s => compact(concat(
      [for r in [s] : var.stage_accounts[r].deploy_role_arn if contains(local.remote_stages, r)],
      [for r in compact([local.promote_from[s]]) : var.stage_accounts[r].reader_role_arn if contains(local.remote_stages, r)],
    ))
  }

  codebuild_project_arns = {
    for k, p in local.codebuild_projects :
    k => "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${p.name}"
  }
}

data "aws_iam_policy_document" "codebuild_assume" {
  for_each = local.codebuild_projects

  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.codebuild_project_arns[each.key]]
    }
  }
}

resource "aws_iam_role" "codebuild" {
  for_each = local.codebuild_projects

  name                 = each.value.role_name
  description          = "CodeBuild service role of ${each.value.name}."
  assume_role_policy   = data.aws_iam_policy_document.codebuild_assume[each.key].json
  max_session_duration = 3600
}

# --- every project -----------------------------------------------------------

data "aws_iam_policy_document" "codebuild_common" {
  for_each = local.codebuild_projects

  statement {
    sid       = "OwnBuildLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.codebuild[each.key].arn}:*"]
  }

  statement {
    sid = "PipelineArtifacts"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:PutObject",
    ]
    resources = [
      "${local.artifact_bucket_arn}/${substr(each.key == "pull-request" ? local.pull_request_pipeline_name : local.pipeline_name, 0, 20)}/*",
    ]
  }

  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:GetBucketAcl", "s3:GetBucketLocation"]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid       = "TerraformOutputsFile"
    actions   = ["s3:GetObject"]
    resources = ["${local.artifact_bucket_arn}/${local.deployer_outputs_key}"]
  }

  statement {
    sid = "ArtifactEncryption"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = [aws_kms_key.delivery.arn]
  }

  dynamic "statement" {
    for_each = each.value.cache ? [each.value.name] : []
    content {
      sid       = "BuildCache"
      actions   = ["s3:GetObject", "s3:PutObject"]
      resources = ["${local.artifact_bucket_arn}/${local.cache_prefix}${statement.value}/*"]
    }
  }
}

resource "aws_iam_role_policy" "codebuild_common" {
  for_each = local.codebuild_projects

  name   = "common"
  role   = aws_iam_role.codebuild[each.key].id
  policy = data.aws_iam_policy_document.codebuild_common[each.key].json
}

# --- deploy-<stage> ------------------------------------------------------------

# The stack side of a stage that runs in this account: the same document a
# stage's own account gives its deploy role (infrastructure/stage-account).
module "stack_deploy_policy" {
  source   = "./modules/stack-deploy-policy"
  for_each = toset(local.local_stages)

  stack_arn           = local.stack_arns[each.key]
  execution_role_arn  = local.execution_role_arns[each.key]
  readable_stack_arns = [for s in local.local_stages : local.stack_arns[s] if s != each.key]
}

data "aws_iam_policy_document" "codebuild_deploy" {
  for_each = toset(local.stages)

  # On its stack: in this account directly (modules/stack-deploy-policy), in a
  # stage's own account through the deploy role there (the deployer assumes
  # the stage file's deploy_role_arn). A promotion also reads its
  # predecessor's stack: here, or through the reader role of its account.
  source_policy_documents = contains(local.local_stages, each.key) ? [module.stack_deploy_policy[each.key].json] : []

  dynamic "statement" {
    for_each = length(local.assumed_stage_roles[each.key]) > 0 ? [local.assumed_stage_roles[each.key]] : []
    content {
      sid       = "AssumeStageAccountRoles"
      actions   = ["sts:AssumeRole"]
      resources = statement.value
    }
  }

  # A stage in its own account promoted from one that runs here reads that
  # one's stack here (a stage here reads it through its source document).
  dynamic "statement" {
    for_each = contains(local.remote_stages, each.key) && contains(local.local_stages, coalesce(local.promote_from[each.key], "-")) ? [local.promote_from[each.key]] : []
    content {
      sid = "ReadPredecessorStack"
      actions = [
        "cloudformation:DescribeStackResources",
        "cloudformation:DescribeStacks",
        "cloudformation:ListStackResources",
      ]
      resources = [local.stack_arns[statement.value]]
    }
  }

  statement {
    sid = "FunctionZips"
    actions = concat(
      ["s3:GetObject"],
      contains(local.uploading_stages, each.key) ? ["s3:PutObject"] : [],
    )
    resources = ["${local.artifact_bucket_arn}/${local.functions_prefix}*"]
  }

  statement {
    sid       = "StackTemplates"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["${local.artifact_bucket_arn}/${local.templates_prefix}${each.key}/*"]
  }

  statement {
    sid       = "ListFunctionZipsAndTemplates"
    actions   = ["s3:ListBucket"]
    resources = [local.artifact_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.functions_prefix}*", "${local.templates_prefix}${each.key}/*"]
    }
  }

  statement {
    sid = "ReadPipelineState"
    actions = [
      "codepipeline:GetPipeline",
      "codepipeline:GetPipelineExecution",
      "codepipeline:GetPipelineState",
      "codepipeline:ListActionExecutions",
      "codepipeline:ListPipelineExecutions",
    ]
    resources = [local.pipeline_arn]
  }

  # `deployer status` (the smoke step) shows the stage's monthly upstream
  # budget: the counter items of its status table (`budget#<month>`), nothing else.
  statement {
    sid       = "ReadUpstreamBudget"
    actions   = ["dynamodb:GetItem"]
    resources = ["arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/status-${each.key}"]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["budget#*"]
    }
  }
}

resource "aws_iam_role_policy" "codebuild_deploy" {
  for_each = toset(local.stages)

  name   = "deploy-${each.key}"
  role   = aws_iam_role.codebuild["deploy-${each.key}"].id
  policy = data.aws_iam_policy_document.codebuild_deploy[each.key].json
}

# --- pull-request ----------------------------------------------------------------

data "aws_iam_policy_document" "codebuild_pull_request" {
  count = local.pull_requests_enabled ? 1 : 0

  # Each stack only with its own stage's execution role.
  dynamic "statement" {
    for_each = toset(var.pull_request_plan_stages)
    content {
      sid       = "PlanChangeSets${title(statement.value)}"
      actions   = ["cloudformation:CreateChangeSet"]
      resources = [local.stack_arns[statement.value]]
      condition {
        test     = "ArnEquals"
        variable = "cloudformation:RoleArn"
        values   = [local.execution_role_arns[statement.value]]
      }
    }
  }

  statement {
    sid = "ReadAndDiscardChangeSets"
    actions = [
      "cloudformation:DeleteChangeSet",
      "cloudformation:DescribeChangeSet",
      "cloudformation:DescribeStackResources",
      "cloudformation:DescribeStacks",
      "cloudformation:GetTemplate",
      "cloudformation:GetTemplateSummary",
      "cloudformation:ListChangeSets",
      "cloudformation:ListStackResources",
    ]
    resources = [for s in var.pull_request_plan_stages : local.stack_arns[s]]
  }

  statement {
    sid       = "ValidateTemplate"
    actions   = ["cloudformation:ValidateTemplate"]
    resources = ["*"]
  }

  statement {
    sid       = "PassPlannedExecutionRoles"
    actions   = ["iam:PassRole"]
    resources = [for s in var.pull_request_plan_stages : local.execution_role_arns[s]]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["cloudformation.amazonaws.com"]
    }
  }

  # `deployer plan` checks reservations against the account's Lambda
  # concurrency as `up` does; account-level, "*" only (see deploy-<stage>).
  statement {
    sid       = "AccountLambdaConcurrency"
    actions   = ["lambda:GetAccountSettings"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadFunctionZips"
    actions   = ["s3:GetObject"]
    resources = ["${local.artifact_bucket_arn}/${local.functions_prefix}*"]
  }

  statement {
    sid       = "ListFunctionZips"
    actions   = ["s3:ListBucket"]
    resources = [local.artifact_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.functions_prefix}*"]
    }
  }
}

resource "aws_iam_role_policy" "codebuild_pull_request" {
  count = local.pull_requests_enabled ? 1 : 0

  name   = "pull-request"
  role   = aws_iam_role.codebuild["pull-request"].id
  policy = data.aws_iam_policy_document.codebuild_pull_request[0].json
}
