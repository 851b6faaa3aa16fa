# One CloudFormation execution role per stage (this module: the stages of one
# account; infrastructure/ and infrastructure/stage-account/ both call it).
# CloudFormation assumes it to
# create, change and delete what countries-<stage> holds (docs/contract.md),
# and nothing else:
#
#   DynamoDB  countries-<stage>, status-<stage>, circuit-breaker-state-<stage>
#   SQS       countries-fetch-<stage>, countries-fetch-dlq-<stage>
#   Lambda    functions countries-*-<stage>, their permissions and event
#             source mappings
#   IAM       the functions' roles: countries-<stage>-* (names CloudFormation
#             generates from the stack name) or countries-*-<stage>; passed
#             only to Lambda; managed policies limited to the two Lambda ones
#   Logs      /aws/lambda/countries-*-<stage>, /aws/http-api/countries-<stage>/*
#   CloudWatch alarms countries-<stage>-* or countries-*-<stage>, and the
#             stage's dashboard countries-<stage>
#   SNS       e-mail subscriptions to the alarm topic
#   API Gateway HTTP APIs (their ids are generated, so not by name)
#   Releases  the functions' versions and `live` aliases, the CodeDeploy
#             application and deployment group, passing the stage's CodeDeploy
#             role: a second inline policy, in iam_codedeploy.tf
#
# The foundation's own roles are all named countries-delivery-...-<kind>
# (countries-delivery-pipeline, countries-delivery-prod-deploy,
# countries-delivery-prod-cloudformation, ...): they neither start with
# countries-<stage>- nor end in -<stage>, so no execution role can touch
# them or itself.
#
# prod's role cannot delete DynamoDB tables: a template change that would
# drop or replace a prod table fails instead of losing data.

locals {
  table_delete_protected_stages = ["prod"]

  # The AWS-managed policies a stack may attach to its function roles.
  attachable_managed_policies = [
    "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
  ]

  function_boundary_arns = {
    for s in local.stages : s => "arn:${local.partition}:iam::${local.account_id}:policy/${local.project}-${s}-function-boundary"
  }

  stage_arns = {
    for s in local.stages : s => {
      tables    = [for t in local.stage_tables[s] : "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${t}"]
      indexes   = [for t in local.stage_tables[s] : "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${t}/index/*"]
      queues    = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${local.project}-fetch*-${s}"
      functions = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.project}-*-${s}"
      roles = [
        "arn:${local.partition}:iam::${local.account_id}:role/${local.project}-${s}-*",
        "arn:${local.partition}:iam::${local.account_id}:role/${local.project}-*-${s}",
      ]
      alarms = [
        "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${local.project}-${s}-*",
        "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${local.project}-*-${s}",
      ]
      dashboard = "arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${local.project}-${s}"
      log_groups = [
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.project}-*-${s}",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/http-api/${local.project}-${s}/*",
      ]
    }
  }
}

data "aws_iam_policy_document" "cloudformation_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["cloudformation.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cloudformation" {
  for_each = toset(local.stages)

  name                 = "${local.project}-delivery-${each.key}-cloudformation"
  description          = "CloudFormation execution role of the countries-${each.key} stack."
  assume_role_policy   = data.aws_iam_policy_document.cloudformation_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "cloudformation" {
  for_each = toset(local.stages)

  statement {
    sid = "Tables"
    actions = concat(
      [
        "dynamodb:CreateTable",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeContributorInsights",
        "dynamodb:DescribeKinesisStreamingDestination",
        "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:GetResourcePolicy",
        "dynamodb:ListTagsOfResource",
        "dynamodb:TagResource",
        "dynamodb:UntagResource",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateContributorInsights",
        "dynamodb:UpdateTable",
        "dynamodb:UpdateTimeToLive",
      ],
      contains(local.table_delete_protected_stages, each.key) ? [] : ["dynamodb:DeleteTable"],
    )
    resources = concat(local.stage_arns[each.key].tables, local.stage_arns[each.key].indexes)
  }

  statement {
    sid = "Queues"
    actions = [
      "sqs:CreateQueue",
      "sqs:DeleteQueue",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ListQueueTags",
      "sqs:SetQueueAttributes",
      "sqs:TagQueue",
      "sqs:UntagQueue",
    ]
    resources = [local.stage_arns[each.key].queues]
  }

  statement {
    sid = "Functions"
    actions = [
      "lambda:AddPermission",
      "lambda:CreateFunction",
      "lambda:DeleteFunction",
      "lambda:DeleteFunctionConcurrency",
      "lambda:DeleteFunctionEventInvokeConfig",
      "lambda:GetFunction",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionEventInvokeConfig",
      "lambda:GetFunctionRecursionConfig",
      "lambda:GetFunctionScalingConfig",
      "lambda:GetPolicy",
      "lambda:GetRuntimeManagementConfig",
      "lambda:ListTags",
      "lambda:ListVersionsByFunction",
      "lambda:PublishVersion",
      "lambda:PutFunctionConcurrency",
      "lambda:PutFunctionEventInvokeConfig",
      "lambda:PutFunctionRecursionConfig",
      "lambda:PutRuntimeManagementConfig",
      "lambda:RemovePermission",
      "lambda:TagResource",
      "lambda:UntagResource",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:UpdateFunctionEventInvokeConfig",
    ]
    resources = [local.stage_arns[each.key].functions, "${local.stage_arns[each.key].functions}:*"]
  }

  # Function code comes from the artifact bucket; Lambda fetches it with the
  # caller's (this role's) permissions.
  statement {
    sid       = "FunctionCode"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.artifact_bucket_arn}/${local.functions_prefix}*"]
  }

  statement {
    sid       = "FunctionCodeDecrypt"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.artifact_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
    # In a stage account the tooling account's key is named by its alias
    # (its id is not known when this account is applied first).
    dynamic "condition" {
      for_each = var.artifact_key_alias == null ? [] : [var.artifact_key_alias]
      content {
        test     = "ForAnyValue:StringEquals"
        variable = "kms:ResourceAliases"
        values   = [condition.value]
      }
    }
  }

  # Event source mappings, limited by the function they map to
  # (lambda:FunctionArn, which the Service Authorization Reference lists for
  # all four actions, GetEventSourceMapping included: the read handler's call
  # is limited the same way). CreateEventSourceMapping has no resource type,
  # so "*"; the others act on this account's and region's mappings only.
  # An older Lambda developer-guide table lists no condition key for
  # GetEventSourceMapping: if a first deploy is ever denied it, move it to a
  # statement of its own on event-source-mapping:* without the condition.
  statement {
    sid       = "CreateQueueEventSourceMappings"
    actions   = ["lambda:CreateEventSourceMapping"]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = [local.stage_arns[each.key].functions, "${local.stage_arns[each.key].functions}:*"]
    }
  }

  statement {
    sid = "QueueEventSourceMappings"
    actions = [
      "lambda:DeleteEventSourceMapping",
      "lambda:GetEventSourceMapping",
      "lambda:UpdateEventSourceMapping",
    ]
    resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:event-source-mapping:*"]
    condition {
      test     = "ArnLike"
      variable = "lambda:FunctionArn"
      values   = [local.stage_arns[each.key].functions, "${local.stage_arns[each.key].functions}:*"]
    }
  }

  statement {
    sid = "TagEventSourceMappings"
    actions = [
      "lambda:ListTags",
      "lambda:TagResource",
      "lambda:UntagResource",
    ]
    resources = ["arn:${local.partition}:lambda:${local.region}:${local.account_id}:event-source-mapping:*"]
  }

  statement {
    sid = "FunctionRolesRead"
    actions = [
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
    ]
    resources = local.stage_arns[each.key].roles
  }

  statement {
    sid = "FunctionRolesWrite"
    actions = concat(
      [
        "iam:CreateRole",
        "iam:DeleteRolePolicy",
        "iam:PutRolePolicy",
      ],
      var.enforce_function_permissions_boundary ? ["iam:PutRolePermissionsBoundary"] : [],
    )
    resources = local.stage_arns[each.key].roles
    dynamic "condition" {
      for_each = var.enforce_function_permissions_boundary ? [local.function_boundary_arns[each.key]] : []
      content {
        test     = "StringEquals"
        variable = "iam:PermissionsBoundary"
        values   = [condition.value]
      }
    }
  }

  statement {
    sid = "FunctionRolesLifecycle"
    actions = [
      "iam:DeleteRole",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = local.stage_arns[each.key].roles
  }

  statement {
    sid       = "FunctionRolesManagedPolicies"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = local.stage_arns[each.key].roles
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = local.attachable_managed_policies
    }
    dynamic "condition" {
      for_each = var.enforce_function_permissions_boundary ? [local.function_boundary_arns[each.key]] : []
      content {
        test     = "StringEquals"
        variable = "iam:PermissionsBoundary"
        values   = [condition.value]
      }
    }
  }

  statement {
    sid       = "PassFunctionRolesToLambda"
    actions   = ["iam:PassRole"]
    resources = local.stage_arns[each.key].roles
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  statement {
    sid = "LogGroups"
    actions = [
      "logs:AssociateKmsKey",
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:DeleteRetentionPolicy",
      "logs:DisassociateKmsKey",
      "logs:GetDataProtectionPolicy",
      "logs:ListTagsForResource",
      "logs:ListTagsLogGroup",
      "logs:PutRetentionPolicy",
      "logs:TagLogGroup",
      "logs:TagResource",
      "logs:UntagLogGroup",
      "logs:UntagResource",
    ]
    resources = flatten([for lg in local.stage_arns[each.key].log_groups : [lg, "${lg}:*"]])
  }

  # The worker log group's UpstreamBudgetUsed metric filter (the monthly
  # upstream budget's 80 % alarm): these actions take the log group's ARN.
  statement {
    sid = "MetricFilters"
    actions = [
      "logs:DeleteMetricFilter",
      "logs:DescribeMetricFilters",
      "logs:PutMetricFilter",
    ]
    resources = flatten([for lg in local.stage_arns[each.key].log_groups : [lg, "${lg}:*"]])
  }

  statement {
    sid       = "DescribeLogGroups"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
  }

  # The log group read handler (run after every create and update) lists the
  # groups' field index policies; the action has no resource type, so "*".
  statement {
    sid       = "DescribeLogGroupIndexPolicies"
    actions   = ["logs:DescribeIndexPolicies"]
    resources = ["*"]
  }

  # HTTP API access logging (vended logs). These actions have no resource
  # type, so "*" is the only resource they accept.
  statement {
    sid = "ApiAccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }

  statement {
    sid = "HttpApis"
    actions = [
      "apigateway:DELETE",
      "apigateway:GET",
      "apigateway:PATCH",
      "apigateway:POST",
      "apigateway:PUT",
    ]
    resources = [
      "arn:${local.partition}:apigateway:${local.region}::/apis",
      "arn:${local.partition}:apigateway:${local.region}::/apis/*",
      "arn:${local.partition}:apigateway:${local.region}::/tags/*",
    ]
  }

  statement {
    sid = "Alarms"
    actions = [
      "cloudwatch:DeleteAlarms",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = local.stage_arns[each.key].alarms
  }

  # The stage's dashboard (dashboards have no region in their ARN).
  statement {
    sid = "Dashboard"
    actions = [
      "cloudwatch:DeleteDashboards",
      "cloudwatch:GetDashboard",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:PutDashboard",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ]
    resources = [local.stage_arns[each.key].dashboard]
  }

  # A stage may subscribe an e-mail address to the alarm topic (alarms.email
  # in stages/<stage>.yaml); e-mail only, so nothing can be exfiltrated.
  statement {
    sid       = "AlarmEmailSubscribe"
    actions   = ["sns:Subscribe"]
    resources = [var.alarm_topic_arn]
    condition {
      test     = "StringEquals"
      variable = "sns:Protocol"
      values   = ["email"]
    }
  }

  statement {
    sid = "AlarmEmailSubscriptions"
    actions = [
      "sns:GetSubscriptionAttributes",
      "sns:SetSubscriptionAttributes",
      "sns:Unsubscribe",
    ]
    resources = [var.alarm_topic_arn, "${var.alarm_topic_arn}:*"]
  }
}

resource "aws_iam_role_policy" "cloudformation" {
  for_each = toset(local.stages)

  name   = "stack-${each.key}"
  role   = aws_iam_role.cloudformation[each.key].id
  policy = data.aws_iam_policy_document.cloudformation[each.key].json
}

# --- permissions boundary for the functions' roles ---------------------------
# The most a function role of the stage may ever do (docs/contract.md,
# "Functions"). Enforced on the execution role only when
# var.enforce_function_permissions_boundary is true; the templates then set
# PermissionsBoundary: arn:<partition>:iam::<account>:policy/countries-<stage>-function-boundary.

data "aws_iam_policy_document" "function_boundary" {
  for_each = toset(local.stages)

  statement {
    sid = "StageTables"
    actions = [
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:DeleteItem",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ]
    resources = concat(local.stage_arns[each.key].tables, local.stage_arns[each.key].indexes)
  }

  statement {
    sid = "StageQueues"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    resources = [local.stage_arns[each.key].queues]
  }

  statement {
    sid       = "UpstreamApiKey"
    actions   = ["ssm:GetParameter", "ssm:GetParameters"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${var.upstream_api_key_parameter_path}*"]
  }

  statement {
    sid       = "UpstreamApiKeyDecrypt"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "FunctionLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${local.project}-*-${each.key}:*"]
  }

  # X-Ray accepts no resource but "*".
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "function_boundary" {
  for_each = toset(local.stages)

  name        = "${local.project}-${each.key}-function-boundary"
  description = "Permissions boundary for the function roles of the countries-${each.key} stack."
  policy      = data.aws_iam_policy_document.function_boundary[each.key].json
}
