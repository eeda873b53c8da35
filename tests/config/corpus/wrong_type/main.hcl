resource "aws_fleet" "web" {
  name            = "web"
  launch_template = "lt"
  min_size        = "two"
}
