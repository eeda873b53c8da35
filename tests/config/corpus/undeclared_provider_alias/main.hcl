provider "aws" {
  region = "us-east-1"
}

resource "aws_fleet" "web" {
  provider        = aws.eu
  name            = "web"
  launch_template = "lt"
}
