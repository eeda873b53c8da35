locals {
  y = 1
  z = = 2
}
