variable "x" {
  type = number
}
output "o" {
  value = var.x * 2
}

#--tfvars--
x = 21
