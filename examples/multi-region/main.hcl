# Multi-region example: an image baked in us-east-1 is copied to eu-west-1 (encrypted with that
# region's key), shared with an account in both regions, and run by a fleet in each region; a
# retention in each region keeps the last 3 versions. Runs against the local sandbox
# (`bash run.sh`; the endpoint comes from AWS_ENDPOINT_URL); no AWS account needed.

reconciler {
  stack = "multi-region-example"
}

provider "aws" {
  region       = "us-east-1"
  default_tags = { Project = "multi-region-example" }
}

provider "aws" {
  alias        = "eu"
  region       = "eu-west-1"
  default_tags = { Project = "multi-region-example" }
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
