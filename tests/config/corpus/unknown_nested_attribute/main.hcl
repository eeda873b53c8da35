resource "aws_launch_template" "web" {
  name     = "web"
  image_id = "ami-1"
  block_device_mapping {
    device_name = "/dev/xvda"
    volume_sise = 8
  }
}
