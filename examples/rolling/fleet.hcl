# The API fleet: 4 instances behind a target group. A new AMI is rolled out in place: one extra
# instance on the new image is launched (max_surge), waited healthy, then one old instance is
# drained and terminated; the fleet never drops below 4 serving instances (max_unavailable = 0).

data "aws_vpc" "default" {
  default = true
}

resource "aws_target_group" "api" {
  name                 = "api"
  port                 = 8080
  protocol             = "HTTP"
  vpc_id               = data.aws_vpc.default.id
  deregistration_delay = 30

  health_check {
    path = "/healthz"
  }
}

resource "aws_fleet" "api" {
  name                      = "api"
  launch_template           = aws_launch_template.api.id
  min_size                  = 2
  max_size                  = 6
  desired_capacity          = 4
  availability_zones        = ["us-east-1a", "us-east-1b"]
  target_group_arns         = [aws_target_group.api.arn]
  health_check_type         = "ELB"
  health_check_grace_period = "2m"
  tags                      = { Service = "api" }

  rollout {
    strategy        = "rolling"
    max_surge       = 1
    max_unavailable = 0
    pause           = var.bake_time
    health_timeout  = "5m"
    drain_timeout   = "30s"
    auto_rollback   = true
  }
}
