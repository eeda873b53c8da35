resource "aws_launch_template" {
  name = "web"
}
