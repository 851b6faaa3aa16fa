# The stage's alarm topic: its stack's CloudWatch alarms notify it (the
# tooling root's output stage_alarm_topic_arns hands it to the deployer), and
# the stack may subscribe the stage file's alarms.email. Encrypted with a key
# of its own whose policy lets CloudWatch publish: alarms cannot publish to a
# topic under the AWS-managed SNS key.

module "key_administration" {
  source = "../modules/key-administration"

  partition  = local.partition
  account_id = local.account_id
}

data "aws_iam_policy_document" "alarm_key" {
  #checkov:skip=CKV_AWS_111:In a key policy "*" is this key only; each statement names its service principal (and conditions where the service sets them).
  #checkov:skip=CKV_AWS_356:In a key policy "*" is this key only; it cannot name another resource.
  # The account administers the key and may delegate its use through IAM.
  source_policy_documents = [module.key_administration.json]

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
}

resource "aws_kms_key" "alarms" {
  description             = "countries ${var.stage}: the alarm topic"
  enable_key_rotation     = true
  rotation_period_in_days = 365
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.alarm_key.json
}

resource "aws_kms_alias" "alarms" {
  name          = "alias/${local.project}-${var.stage}-alarms"
  target_key_id = aws_kms_key.alarms.key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.project}-${var.stage}-alarms"
  display_name      = "countries ${var.stage}"
  kms_master_key_id = aws_kms_key.alarms.arn
}

data "aws_iam_policy_document" "alarm_topic" {
  # The stage stack's alarms (named countries-*, docs/contract.md), of this account only.
  statement {
    sid     = "StageAlarmsPublish"
    effect  = "Allow"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    resources = [aws_sns_topic.alarms.arn]
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${local.project}-*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["sns:Publish"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [aws_sns_topic.alarms.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarm_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.notification_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.notification_email
}
