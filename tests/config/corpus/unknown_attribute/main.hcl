variable "instance_type" {
  default = "t3.micro"
}

resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = "ami-1"
  instance_typo = var.instance_type
}
