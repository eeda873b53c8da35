# The checkout fleet: 4 instances behind a target group. A new AMI first takes 25% of the
# capacity in a new group beside the old one, then 50%, then all of it; between steps it bakes
# while the checkout-5xx alarm (declared below, so it exists before any rollout watches it) is
# watched. Any step that fails rolls the fleet back to the old group.

data "aws_vpc" "default" {
  default = true
}

resource "aws_target_group" "checkout" {
  name                 = "checkout"
  port                 = 8080
  protocol             = "HTTP"
  vpc_id               = data.aws_vpc.default.id
  deregistration_delay = 30

  health_check {
    path = "/healthz"
  }
}

resource "aws_fleet" "checkout" {
  name                      = "checkout"
  launch_template           = aws_launch_template.checkout.id
  min_size                  = 2
  max_size                  = 8
  desired_capacity          = 4
  availability_zones        = ["us-east-1a", "us-east-1b"]
  target_group_arns         = [aws_target_group.checkout.arn]
  health_check_type         = "ELB"
  health_check_grace_period = "2m"
  tags                      = { Service = "checkout" }

  rollout {
    strategy       = "canary"
    steps          = [25, 50, 100]
    pause          = var.bake_time
    health_timeout = "5m"
    alarms         = [aws_cloudwatch_metric_alarm.checkout_5xx.alarm_name] # one in ALARM fails the step
    auto_rollback  = true
    keep_previous  = "1h"
    drain_timeout  = "30s"
  }
}

# Target 5xx responses of the checkout target group: more than 10 a minute for 2 minutes is ALARM.
resource "aws_cloudwatch_metric_alarm" "checkout_5xx" {
  alarm_name          = "checkout-5xx"
  alarm_description   = "5xx responses from the checkout fleet; gates every canary step"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  dimensions          = { TargetGroup = aws_target_group.checkout.arn_suffix }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 10
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
}
