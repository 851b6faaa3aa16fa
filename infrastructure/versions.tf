# Terraform and provider versions, and the one provider configuration.
#
# State: no backend block here on purpose. The bootstrap is a one-time,
# by-hand `terraform apply` (docs/delivery.md); add a backend (S3 + locking)
# in a backend.tf that is not committed, or pass -backend-config, if several
# people will apply.

terraform {
  # Applying needs 1.6. The tests (tests/*.tftest.hcl, run by
  # scripts/terraform.sh) need Terraform >= 1.11: the script checks it.
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 (the provider mirror that developer machines and CI carry) and
      # every 6.x: the resources used here have the same schema in both, apart
      # from 6.x's optional per-resource `region`, which nothing here sets.
      version = ">= 5.100, < 7.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  # Every taggable resource gets these; the stage stacks carry their own
  # tags from stages/<stage>.yaml.
  default_tags {
    tags = merge(
      {
        Project    = "countries"
        Component  = "delivery"
        ManagedBy  = "terraform"
        Repository = var.repository_id
      },
      var.tags,
    )
  }
}
