resource "aws_launch_template" "web" {
  name     = "web"
  image_id = "ami-1"
  block_device_mapping {
    device_name = "/dev/xvda"
    volume_size = 8
  }
  block_device_mapping {
    device_name = "/dev/xvdb"
    volume_size = "big"
  }
}
