# Multi-region example: an image baked in us-east-1 is copied to eu-west-1 (encrypted with that
# region's key), shared with an account in both regions, and run by a fleet in each region; a
# retention in each region keeps the last 3 versions. Runs against the local sandbox
# (`reconciler sandbox start`, then `reconciler sandbox bake app 1.0.0`); no AWS account needed.

reconciler {
  stack = "multi-region-example"
}

provider "aws" {
  region       = "us-east-1"
  endpoint_url = var.endpoint_url
  default_tags = { Project = "multi-region-example" }
}

provider "aws" {
  alias        = "eu"
  region       = "eu-west-1"
  endpoint_url = var.endpoint_url
  default_tags = { Project = "multi-region-example" }
}

variable "endpoint_url" {
  type        = string
  default     = "http://127.0.0.1:4566"
  description = "The sandbox started by `reconciler sandbox start`"
}

variable "share_with" {
  type        = string
  default     = "111122223333"
  description = "The AWS account the images are shared with"
}

variable "eu_kms_key" {
  type        = string
  default     = "alias/aws/ebs"
  description = "The KMS key (id, ARN or alias) the eu-west-1 copy is encrypted with"
}
