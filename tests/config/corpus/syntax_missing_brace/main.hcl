resource "aws_launch_template" "web" {
  name     = "web"
  image_id = "ami-1"

variable "x" {
  default = 1
}
