# The artifact bucket: pipeline artifacts (per execution), the function zips
# the stacks run (functions/<name>/<sha256>.zip, content-addressed, kept as
# long as the bucket: promotion and rollback redeploy them), large stack
# templates, CodeBuild's cache, and the deployer's copy of the Terraform
# outputs (outputs_file.tf). Plus a second bucket for its access logs.

resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_144:No cross-region replica: everything here is rebuilt from git (packaging is reproducible, same source gives the same sha256), and the stages run in this one region.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: the pipeline is started by the source connection, not by S3 events.
  bucket = local.artifact_bucket_name
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.delivery.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "artifacts" {
  bucket        = aws_s3_bucket.artifacts.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "s3/${local.artifact_bucket_name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id

  # Each pipeline execution's artifacts (source zip, package, plan.md).
  dynamic "rule" {
    for_each = local.pipeline_artifact_prefixes
    content {
      id     = "expire-pipeline-artifacts-${trimsuffix(rule.value, "/")}"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = var.pipeline_artifact_retention_days
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }
    }
  }

  rule {
    id     = "expire-codebuild-cache"
    status = "Enabled"
    filter {
      prefix = local.cache_prefix
    }
    expiration {
      days = var.cache_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  # Whole bucket: old versions of overwritten or deleted objects, leftover
  # delete markers and abandoned multipart uploads. Current function zips are
  # never expired by age.
  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
    expiration {
      expired_object_delete_marker = true
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.artifacts]
}

data "aws_iam_policy_document" "artifacts_bucket" {
  # TLS only, for every caller. (A Deny: "s3:*" here removes access, it grants nothing.)
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.artifact_bucket_arn, "${local.artifact_bucket_arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # TLS 1.2 or later.
  statement {
    sid     = "DenyOldTls"
    effect  = "Deny"
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.artifact_bucket_arn, "${local.artifact_bucket_arn}/*"]
    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # --- stages in their own account (var.stage_accounts; none by default) ---
  # Their CloudFormation execution roles read the function zips: Lambda
  # fetches a function's code with the permissions of CloudFormation's caller,
  # that role. Nothing else in those accounts may use the bucket.
  dynamic "statement" {
    for_each = length(var.stage_accounts) > 0 ? [sort([for a in values(var.stage_accounts) : a.execution_role_arn])] : []
    content {
      sid     = "StageExecutionRolesReadFunctionZips"
      effect  = "Allow"
      actions = ["s3:GetObject"]
      principals {
        type        = "AWS"
        identifiers = statement.value
      }
      resources = ["${local.artifact_bucket_arn}/${local.functions_prefix}*"]
    }
  }

  # Whatever a stage account's own IAM policies say: no listing, no writing,
  # no object but the function zips. (Deny statements only take away.)
  dynamic "statement" {
    for_each = length(var.stage_accounts) > 0 ? [sort(distinct([for a in values(var.stage_accounts) : a.account_id]))] : []
    content {
      sid         = "StageAccountsOnlyReadObjects"
      effect      = "Deny"
      not_actions = ["s3:GetObject"]
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      resources = [local.artifact_bucket_arn, "${local.artifact_bucket_arn}/*"]
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalAccount"
        values   = statement.value
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.stage_accounts) > 0 ? [sort(distinct([for a in values(var.stage_accounts) : a.account_id]))] : []
    content {
      sid           = "StageAccountsOnlyFunctionZips"
      effect        = "Deny"
      actions       = ["s3:GetObject"]
      not_resources = ["${local.artifact_bucket_arn}/${local.functions_prefix}*"]
      principals {
        type        = "*"
        identifiers = ["*"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalAccount"
        values   = statement.value
      }
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.artifacts]
}

# --- access logs of the artifact bucket ------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is not wanted for access logs kept for a year in the stages' region.
  #checkov:skip=CKV_AWS_145:S3 server access logs can only be delivered to a bucket whose default encryption is SSE-S3 (AES256); SSE-KMS is not supported for the target bucket.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events of the access logs.
  bucket = local.access_log_bucket_name
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

data "aws_iam_policy_document" "access_logs_bucket" {
  # Only S3's logging service writes here, and only logs of the artifact bucket.
  statement {
    sid     = "S3ServerAccessLogsFromArtifactBucket"
    effect  = "Allow"
    actions = ["s3:PutObject"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    resources = ["${local.access_log_bucket_arn}/s3/${local.artifact_bucket_name}/*"]
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.artifact_bucket_arn]
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
    actions = ["s3:*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    resources = [local.access_log_bucket_arn, "${local.access_log_bucket_arn}/*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  policy = data.aws_iam_policy_document.access_logs_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
