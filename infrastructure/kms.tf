# One customer-managed key for everything the delivery foundation stores:
# the artifact bucket (pipeline artifacts, function zips, the outputs file),
# CodeBuild artifacts and logs, and the notification topic. A CMK rather than
# the AWS-managed keys because CloudWatch alarms and CodeStar notifications
# can only publish to an encrypted topic whose key policy lets them.

data "aws_iam_policy_document" "delivery_key" {
  # The account administers the key and may delegate its use through IAM
  # (that is how the pipeline, CodeBuild and execution roles get to use it:
  # their IAM policies name this key). Explicit actions instead of kms:*.
  statement {
    sid    = "AccountAdministersKey"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListAliases",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    #checkov:skip=CKV_AWS_109:In a key policy "*" is this key only; the account principal is the standard delegation to IAM.
    #checkov:skip=CKV_AWS_111:In a key policy "*" is this key only; the account principal is the standard delegation to IAM.
    #checkov:skip=CKV_AWS_356:In a key policy "*" is this key only; it cannot name another resource.
    resources = ["*"]
  }

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
