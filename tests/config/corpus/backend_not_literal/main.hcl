variable "bucket" {
  default = "b"
}

reconciler {
  backend "s3" {
    bucket = var.bucket
    key    = "web.json"
  }
}
