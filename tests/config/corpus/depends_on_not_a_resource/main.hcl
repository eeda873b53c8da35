variable "x" {
  default = 1
}

resource "aws_fleet" "web" {
  name            = "web"
  launch_template = "lt"
  depends_on      = [var.x]
}
