data "aws_ami" "app" {
  name = "app-*"
}

resource "aws_launch_template" "web" {
  name     = "web"
  image_id = data.aws_ami.ap.id
}
