resource "aws_launch_template" "web" {
  name          = "web"
  image_id      = data.aws_ami.app.id
  instance_typo = "t3.micro"
}
