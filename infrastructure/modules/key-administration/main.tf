# The key policy statement that lets an account administer its own
# customer-managed key and delegate its use through IAM: the standard
# delegation, with the actions named instead of kms:*. The delivery key
# (infrastructure/kms.tf) and a stage account's alarm key
# (infrastructure/stage-account) both start from it.

variable "partition" {
  description = "The AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
}

variable "account_id" {
  description = "The account that owns the key."
  type        = string
}

data "aws_iam_policy_document" "this" {
  statement {
    sid    = "AccountAdministersKey"
    effect = "Allow"
    principals {
      type        = "AWS"
      identifiers = ["arn:${var.partition}:iam::${var.account_id}:root"]
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
}

output "json" {
  description = "The policy document (JSON), for source_policy_documents."
  value       = data.aws_iam_policy_document.this.json
}
