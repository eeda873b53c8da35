# Canary example: a checkout fleet moved to a new AMI in steps (25%, 50%, 100% of its capacity),
# each step health-gated and watched by an alarm, with the previous group kept for a fast
# rollback. Runs against the local sandbox, or any AWS account your environment points at
# (AWS_ENDPOINT_URL, AWS_PROFILE, ...); the commands are in README.md.

reconciler {
  stack = "canary-example"
}

provider "aws" {
  region       = "us-east-1"
  default_tags = { Project = "canary-example" }
}

variable "instance_type" {
  type        = string
  default     = "t3.micro"
  description = "EC2 instance type of the checkout fleet"
}

variable "bake_time" {
  type        = string
  default     = "5m"
  description = "How long each canary step runs healthy (and its alarm stays OK) before the next"
}

data "aws_ami" "app" {
  owners      = ["self"]
  name        = "app-*"
  tags        = { App = "app" }
  most_recent = true
  version_tag = "Version"
  version     = ">=1.0,<2"
}

resource "aws_launch_template" "checkout" {
  name          = "checkout"
  image_id      = data.aws_ami.app.id
  instance_type = var.instance_type

  metadata_options {
    http_tokens = "required"
  }

  tags = { Name = "checkout" }
}

output "checkout_ami" {
  value = data.aws_ami.app.name
}
