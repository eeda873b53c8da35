# A stack reviewed in pull requests. CI runners start from a fresh clone every time, so state
# lives in S3 with a DynamoDB lock (create the bucket and table once, outside this stack).

reconciler {
  stack = "web-ci"

  backend "s3" {
    bucket     = "reconciler-ci-state"
    key        = "web-ci/state.json"
    region     = "us-east-1"
    lock_table = "reconciler-locks"
  }
}

provider "aws" {
  region       = "us-east-1"
  default_tags = { ManagedBy = "reconciler", Repo = "infra" }
}

data "aws_ami" "app" {
  name        = "app-*"
  tags        = { Channel = "stable" }
  most_recent = true
  version_tag = "Version"
  version     = ">=1.0,<2"
}

resource "aws_launch_template" "web" {
  name          = "web-ci"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
}

resource "aws_fleet" "web" {
  name               = "web-ci"
  launch_template    = aws_launch_template.web.id
  min_size           = 2
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["us-east-1a"]

  rollout {
    strategy       = "rolling"
    max_surge      = 1
    health_timeout = "5m"
  }
}
