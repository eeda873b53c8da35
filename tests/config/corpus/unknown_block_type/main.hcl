resourc "aws_launch_template" "web" {
  name = "web"
}
