data "tencentcloud_vpn_gateways" "foo" {
  name              = "main"
  id                = "vpngw-8ccsnclt"
  public_ip_address = "1.1.1.1"
  zone              = "ap-guangzhou-3"
  vpc_id            = "vpc-dk8zmwuf"
  tags = {
    test = "tf"
  }
}

data "tencentcloud_vpn_customer_gateways" "all" {}

data "tencentcloud_vpn_customer_gateways" "example" {
  name              = "tf-example"
  id                = "cgw-r1g6c8fr"
  public_ip_address = "1.1.1.1"
  tags = {
    createBy = "Terraform"
  }
}

data "tencentcloud_vpc_instances" "example" {
  name = "Default-VPC"
}
