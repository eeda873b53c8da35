# Rolling example: an API fleet replaced in place, one instance at a time, whenever a newer
# app-* image appears. Runs against the local sandbox, or any AWS account your environment points
# at (AWS_ENDPOINT_URL, AWS_PROFILE, ...); the commands are in README.md.

reconciler {
  stack = "rolling-example"
}

provider "aws" {
  region       = "us-east-1"
  default_tags = { Project = "rolling-example" }
}

variable "instance_type" {
  type        = string
  default     = "t3.micro"
  description = "EC2 instance type of the API fleet"
}

variable "bake_time" {
  type        = string
  default     = "1m"
  description = "How long each batch of new instances runs healthy before the next batch starts"
}

data "aws_ami" "app" {
  owners      = ["self"]
  name        = "app-*"
  tags        = { App = "app" }
  most_recent = true
  version_tag = "Version"
  version     = ">=1.0,<2"
}

resource "aws_launch_template" "api" {
  name          = "api"
  image_id      = data.aws_ami.app.id
  instance_type = var.instance_type

  metadata_options {
    http_tokens = "required"
  }

  tags = { Name = "api" }
}

output "api_ami" {
  value = data.aws_ami.app.name
}
