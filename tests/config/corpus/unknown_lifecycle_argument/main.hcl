resource "aws_fleet" "web" {
  name            = "web"
  launch_template = "lt"
  lifecycle {
    prevent_destroi = true
  }
}
