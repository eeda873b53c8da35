resource "aws_launch_templat" "web" {
  name     = "web"
  image_id = "ami-1"
}
