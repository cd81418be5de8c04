output "image" {
  value = var.image
}
