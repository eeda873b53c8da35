resource "aws_flet" "web" {
  name = local.nope
}

output "x" {
  value = var.y
}
