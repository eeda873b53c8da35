resource "aws_fleet" "web" {
  name            = "web2"
  launch_template = "lt"
}
