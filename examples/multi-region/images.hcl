# The images: the newest app-* baked in us-east-1, its copy in eu-west-1, who may launch them,
# and how many old versions each region keeps.

data "aws_ami" "app" {
  owners      = ["self"]
  name        = "app-*"
  tags        = { App = "app" }
  most_recent = true
  version_tag = "Version"
}

resource "aws_ami_copy" "app_eu" {
  provider      = aws.eu
  source_ami_id = data.aws_ami.app.id
  source_region = "us-east-1"
  name          = data.aws_ami.app.name
  description   = "${data.aws_ami.app.name}, copied from us-east-1"
  encrypted     = true
  kms_key_id    = var.eu_kms_key
  copy_tags     = true

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_ami_launch_permissions" "app_us" {
  image_id        = data.aws_ami.app.id
  account_ids     = [var.share_with]
  share_snapshots = true
}

resource "aws_ami_launch_permissions" "app_eu" {
  provider        = aws.eu
  image_id        = aws_ami_copy.app_eu.id
  account_ids     = [var.share_with]
  share_snapshots = true
}

resource "aws_ami_retention" "us" {
  name        = "app-*"
  tags        = { App = "app" }
  version_tag = "Version"
  keep_last   = 3
}

resource "aws_ami_retention" "eu" {
  provider    = aws.eu
  name        = "app-*"
  tags        = { App = "app" }
  version_tag = "Version"
  keep_last   = 3
}
