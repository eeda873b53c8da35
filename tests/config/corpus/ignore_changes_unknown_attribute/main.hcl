resource "aws_fleet" "web" {
  name            = "web"
  launch_template = "lt"
  lifecycle {
    ignore_changes = [max_size, mim_size]
  }
}
