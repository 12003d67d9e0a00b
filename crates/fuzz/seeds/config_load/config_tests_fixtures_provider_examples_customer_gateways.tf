resource "tencentcloud_vpn_customer_gateway" "example" {
  name              = "tf-example"
  public_ip_address = "1.1.1.1"
  tags = {
    createBy = "Terraform"
  }
}
