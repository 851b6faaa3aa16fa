# What deploying countries-<stage> takes on its stack, in the stack's
# account: change sets with the stage's own execution role only, passing only
# that role, reading other stage stacks (a promotion reads what its
# predecessor runs) and the account's Lambda concurrency. One document, used
# by the tooling account's CodeBuild deploy role of a stage that runs there
# (infrastructure/iam_codebuild.tf) and by the deploy role
# infrastructure/stage-account creates in a stage's own account: a permission
# a deploy needs on its stack is added here, once.

variable "stack_arn" {
  description = "The stage's stack, arn:<partition>:cloudformation:<region>:<account>:stack/countries-<stage>/*."
  type        = string
}

variable "execution_role_arn" {
  description = "The stage's CloudFormation execution role: the only role its change sets may use and the deploy may pass."
  type        = string
}

variable "readable_stack_arns" {
  description = "Other stage stacks in the same account the deploy may read (describe, list resources); empty for none."
  type        = list(string)
  default     = []
}

data "aws_iam_policy_document" "this" {
  statement {
    sid = "ChangeSetsOnOwnStack"
    actions = [
      "cloudformation:CreateChangeSet",
    ]
    resources = [var.stack_arn]
    condition {
      test     = "ArnEquals"
      variable = "cloudformation:RoleArn"
      values   = [var.execution_role_arn]
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
    resources = [var.stack_arn]
  }

  dynamic "statement" {
    for_each = length(var.readable_stack_arns) > 0 ? [var.readable_stack_arns] : []
    content {
      sid = "ReadOtherStageStacks"
      actions = [
        "cloudformation:DescribeStackResources",
        "cloudformation:DescribeStacks",
        "cloudformation:ListStackResources",
      ]
      resources = statement.value
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
    sid       = "ValidateTemplate"
    actions   = ["cloudformation:ValidateTemplate"]
    resources = ["*"]
  }

  statement {
    sid       = "PassOwnExecutionRole"
    actions   = ["iam:PassRole"]
    resources = [var.execution_role_arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["cloudformation.amazonaws.com"]
    }
  }
}

output "json" {
  description = "The policy document (JSON)."
  value       = data.aws_iam_policy_document.this.json
}
