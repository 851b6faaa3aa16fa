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
#                  the account's Lambda concurrency (GetAccountSettings).
#   pull-request   its S3 cache; create, read and delete (never execute)
#                  change sets on the planned stages' stacks; read the
#                  account's Lambda concurrency. Pull-request
#                  code runs here, so it gets no write access to anything a
#                  deploy reads: no function zips, no stack tags.

locals {
  # Stages deployed with `deployer up` (they upload function zips).
  uploading_stages = [for s in local.stages : s if local.promote_from[s] == null]

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

data "aws_iam_policy_document" "codebuild_deploy" {
  for_each = toset(local.stages)

  statement {
    sid = "ChangeSetsOnOwnStack"
    actions = [
      "cloudformation:CreateChangeSet",
    ]
    resources = [local.stack_arns[each.key]]
    condition {
      test     = "ArnEquals"
      variable = "cloudformation:RoleArn"
      values   = [aws_iam_role.cloudformation[each.key].arn]
    }
  }

  statement {
    sid = "DeployOwnStack"
    actions = [
      "cloudformation:DeleteChangeSet",
      "cloudformation:DescribeChangeSet",
      "cloudformation:DescribeStackEvents",
      "cloudformation:DescribeStackResource",
      "cloudformation:DescribeStackResources",
      "cloudformation:DescribeStacks",
      "cloudformation:ExecuteChangeSet",
      "cloudformation:GetTemplate",
      "cloudformation:GetTemplateSummary",
      "cloudformation:ListChangeSets",
      "cloudformation:ListStackResources",
      "cloudformation:TagResource",
      "cloudformation:UntagResource",
    ]
    resources = [local.stack_arns[each.key]]
  }

  statement {
    sid = "ReadOtherStageStacks"
    actions = [
      "cloudformation:DescribeStackResources",
      "cloudformation:DescribeStacks",
      "cloudformation:ListStackResources",
    ]
    resources = [for s in local.stages : local.stack_arns[s] if s != each.key]
  }

  statement {
    sid       = "ValidateTemplate"
    actions   = ["cloudformation:ValidateTemplate"]
    resources = ["*"]
  }

  statement {
    sid       = "PassOwnExecutionRole"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.cloudformation[each.key].arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["cloudformation.amazonaws.com"]
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

  # The deployer reads the account's Lambda concurrency before a deploy that
  # reserves any (deployer/src/deploy/concurrency.rs): a reservation that
  # does not fit would otherwise fail halfway through the stack update.
  # GetAccountSettings reads account-level quotas and has no resource type to
  # scope it to (the Service Authorization Reference lists none), so "*" is
  # the only resource it takes; it reads numbers and changes nothing.
  statement {
    sid       = "AccountLambdaConcurrency"
    actions   = ["lambda:GetAccountSettings"]
    resources = ["*"]
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
        values   = [aws_iam_role.cloudformation[statement.value].arn]
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
    resources = [for s in var.pull_request_plan_stages : aws_iam_role.cloudformation[s].arn]
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
