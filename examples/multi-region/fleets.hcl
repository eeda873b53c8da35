# One web fleet per region, each on its region's image, rolled out in place when it changes.

resource "aws_launch_template" "web_us" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_type = "t3.micro"
}

resource "aws_launch_template" "web_eu" {
  provider      = aws.eu
  name          = "web"
  image_id      = aws_ami_copy.app_eu.id
  instance_type = "t3.micro"
}

resource "aws_fleet" "web_us" {
  name               = "web"
  launch_template    = aws_launch_template.web_us.id
  min_size           = 1
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["us-east-1a", "us-east-1b"]

  rollout {
    strategy       = "rolling"
    max_surge      = 1
    pause          = "0s"
    health_timeout = "2m"
  }
}

resource "aws_fleet" "web_eu" {
  provider           = aws.eu
  name               = "web"
  launch_template    = aws_launch_template.web_eu.id
  min_size           = 1
  max_size           = 4
  desired_capacity   = 2
  availability_zones = ["eu-west-1a", "eu-west-1b"]

  rollout {
    strategy       = "rolling"
    max_surge      = 1
    pause          = "0s"
    health_timeout = "2m"
  }
}

output "images" {
  value = {
    us = data.aws_ami.app.id
    eu = aws_ami_copy.app_eu.id
  }
}
