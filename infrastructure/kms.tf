# One customer-managed key for everything the delivery foundation stores:
# the artifact bucket (pipeline artifacts, function zips, the outputs file),
# CodeBuild artifacts and logs, and the notification topic. A CMK rather than
# the AWS-managed keys because CloudWatch alarms and CodeStar notifications
# can only publish to an encrypted topic whose key policy lets them.

module "key_administration" {
  source = "./modules/key-administration"

  partition  = local.partition
  account_id = local.account_id
}

data "aws_iam_policy_document" "delivery_key" {
  #checkov:skip=CKV_AWS_111:In a key policy "*" is this key only; each statement names its service principal (and conditions where the service sets them).
  #checkov:skip=CKV_AWS_356:In a key policy "*" is this key only; it cannot name another resource.
  # The account administers the key and may delegate its use through IAM
  # (that is how the pipeline, CodeBuild and execution roles get to use it:
  # their IAM policies name this key).
  source_policy_documents = [module.key_administration.json]

  # CloudWatch alarms of the stage stacks publish to the encrypted topic.
  statement {
    sid    = "CloudWatchAlarmsPublishToTopic"
    effect = "Allow"
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
  }

  # CodeStar notifications (failed pipeline runs) publish to the topic, via SNS only.
  statement {
    sid    = "CodeStarNotificationsPublishToTopic"
    effect = "Allow"
    principals {
      type        = "Service"
      identifiers = ["codestar-notifications.amazonaws.com"]
    }
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["sns.${local.region}.amazonaws.com"]
    }
  }

  # CloudWatch Logs encrypts the CodeBuild log groups, and only those.
  statement {
    sid    = "CloudWatchLogsEncryptBuildLogs"
    effect = "Allow"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/codebuild/${local.project}-*"]
    }
  }

  # Stages in their own account (var.stage_accounts): their execution roles
  # decrypt the function zips, through S3 only (S3 decrypts when Lambda
  # fetches a function's code with that role's permissions), and only objects
  # of the artifact bucket. Nothing else in those accounts may use the key.
  dynamic "statement" {
    for_each = length(var.stage_accounts) > 0 ? [sort([for a in values(var.stage_accounts) : a.execution_role_arn])] : []
    content {
      sid    = "StageExecutionRolesDecryptFunctionZips"
      effect = "Allow"
      principals {
        type        = "AWS"
        identifiers = statement.value
      }
      actions   = ["kms:Decrypt"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
      # With S3 Bucket Keys the context is the bucket's ARN, without them the object's.
      condition {
        test     = "StringLike"
        variable = "kms:EncryptionContext:aws:s3:arn"
        values   = [local.artifact_bucket_arn, "${local.artifact_bucket_arn}/${local.functions_prefix}*"]
      }
    }
  }
}

resource "aws_kms_key" "delivery" {
  description             = "countries delivery: artifact bucket, CodeBuild, CodePipeline, notification topic"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.delivery_key.json
}

resource "aws_kms_alias" "delivery" {
  name          = "alias/${local.project}-delivery"
  target_key_id = aws_kms_key.delivery.key_id
}
