resource "aws_fleet" "web" {
  name            = "web-${each.key}"
  launch_template = "lt"
}
