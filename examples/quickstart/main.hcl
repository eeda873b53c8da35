# Quickstart: an AMI looked up by name and version tag, and launch templates built from it.
# Runs against the local sandbox (see README.md: `reconciler sandbox start`, then
# `eval "$(reconciler sandbox env)"` points AWS_ENDPOINT_URL at it); no AWS account needed.

reconciler {
  stack = "quickstart"
}

provider "aws" {
  region       = "us-east-1"
  default_tags = { Project = "quickstart" }
}

variable "instance_type" {
  type        = string
  default     = "t3.micro"
  description = "EC2 instance type for the web fleet"
}

locals {
  app     = "app"
  workers = { batch = "t3.small", queue = "t3.micro" }
}

data "aws_ami" "app" {
  owners      = ["self"]
  name        = "${local.app}-*"
  tags        = { App = local.app }
  most_recent = true
  version_tag = "Version"
  version     = ">=1.0,<2"
}

resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_type = var.instance_type
  user_data     = file("cloud-init.sh")

  block_device_mapping {
    device_name = "/dev/xvda"
    volume_size = 8
    volume_type = "gp3"
    encrypted   = true
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = { Name = "web" }
}

resource "aws_launch_template" "worker" {
  for_each      = local.workers
  name          = "worker-${each.key}"
  image_id      = data.aws_ami.app.id
  instance_type = each.value
  tags          = { Name = "worker-${each.key}" }
}

output "web_ami" {
  value = data.aws_ami.app.name
}

output "web_template_id" {
  value = aws_launch_template.web.id
}
