resource "aws_fleet" "web" {
  for_each        = { a = 1 }
  name            = "web-${count.index}"
  launch_template = "lt"
}
