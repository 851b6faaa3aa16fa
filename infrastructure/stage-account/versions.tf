# Terraform and provider versions, and the one provider configuration of a
# stage account. Applied once in each account that runs a stage of its own
# (docs/delivery.md, "One account per stage"), with that account's
# credentials. No backend block, as in infrastructure/: add one (S3 with
# locking) in a file you don't commit if several people apply, and keep one
# state per stage account.

terraform {
  # Applying needs 1.6; the tests (tests/*.tftest.hcl, run by
  # scripts/terraform.sh) need Terraform >= 1.11.
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(
      {
        Project   = "countries"
        Component = "stage-account"
        Stage     = var.stage
        ManagedBy = "terraform"
      },
      var.tags,
    )
  }
}
