resource "aws_launch_template" "web" {
  name     = "web"
  image_id = "ami-1"
}

resource "aws_fleet" "web" {
  name            = "web"
  launch_template = aws_launch_template.webb.id
}
