# The web fleet: 4 instances behind a target group, replaced blue/green when a new AMI appears.

data "aws_vpc" "default" {
  default = true
}

resource "aws_target_group" "web" {
  name                 = "web"
  port                 = 80
  protocol             = "HTTP"
  vpc_id               = data.aws_vpc.default.id
  deregistration_delay = 5

  health_check {
    path = "/healthz"
  }
}

resource "aws_fleet" "web" {
  name                      = "web"
  launch_template           = aws_launch_template.web.id # the template's latest version is used
  min_size                  = 2
  max_size                  = 8
  desired_capacity          = 4
  availability_zones        = ["us-east-1a", "us-east-1b"]
  target_group_arns         = [aws_target_group.web.arn]
  health_check_type         = "ELB"
  health_check_grace_period = "2m"
  tags                      = { Service = "web" }

  rollout {
    strategy       = "blue_green"
    health_timeout = "2m"
    drain_timeout  = "5s"
    keep_previous  = "1h"
  }
}
