variable "region" {
  default = "us-east-1"
}

variable "instance_type" {
  type = string
}
