locals {
  app = "web"
}

resource "aws_launch_template" "web" {
  name     = local.ap
  image_id = "ami-1"
}
