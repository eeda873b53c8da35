resource "aws_fleet" "web" {
  count           = 2
  for_each        = { a = 1 }
  name            = "web"
  launch_template = "lt"
}
