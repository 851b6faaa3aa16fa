# One SNS topic for people: manual-approval requests of the pipeline, the
# stage stacks' CloudWatch alarms (alarm_topic_arn output), and failed
# pipeline runs. Encrypted with the delivery key (kms.tf), whose policy lets
# CloudWatch and CodeStar notifications publish.

resource "aws_sns_topic" "notifications" {
  name              = "${local.project}-notifications"
  display_name      = "countries"
  kms_master_key_id = aws_kms_key.delivery.arn
}

data "aws_iam_policy_document" "notifications_topic" {
  # Alarms of the stage stacks (named countries-*, docs/contract.md).
  statement {
    sid     = "StageAlarmsPublish"
    effect  = "Allow"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    resources = [aws_sns_topic.notifications.arn]
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

  # Failed pipeline runs (the notification rule below).
  statement {
    sid     = "PipelineNotificationsPublish"
    effect  = "Allow"
    actions = ["sns:Publish"]
    principals {
      type        = "Service"
      identifiers = ["codestar-notifications.amazonaws.com"]
    }
    resources = [aws_sns_topic.notifications.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # The pipeline role publishes approval requests through its IAM policy;
  # people in the account subscribe through theirs. Nothing else.
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["sns:Publish"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [aws_sns_topic.notifications.arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "notifications" {
  arn    = aws_sns_topic.notifications.arn
  policy = data.aws_iam_policy_document.notifications_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.notification_email == null ? 0 : 1
  topic_arn = aws_sns_topic.notifications.arn
  protocol  = "email"
  endpoint  = var.notification_email
}

# Failed runs of the delivery pipeline and rejected approvals.
# (Approval requests come from the Approval action itself, pipeline.tf.)
resource "aws_codestarnotifications_notification_rule" "pipeline" {
  name        = "${local.project}-pipeline-failures"
  resource    = aws_codepipeline.delivery.arn
  detail_type = "FULL"
  event_type_ids = [
    "codepipeline-pipeline-pipeline-execution-failed",
    "codepipeline-pipeline-manual-approval-failed",
  ]

  target {
    type    = "SNS"
    address = aws_sns_topic.notifications.arn
  }

  depends_on = [aws_sns_topic_policy.notifications]
}
