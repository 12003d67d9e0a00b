# VPN gateways written the way the Terraform provider documents them.

resource "tencentcloud_vpn_gateway" "ssl" {
  name      = "test"
  bandwidth = 5
  zone      = "ap-guangzhou-3"
  type      = "SSL"
  vpc_id    = "vpc-86v957zb"

  tags = {
    test = "test"
  }
}

resource "tencentcloud_vpn_gateway" "ccn" {
  name      = "test"
  bandwidth = 5
  zone      = "ap-guangzhou-3"
  type      = "CCN"

  tags      = {
    test = "test"
  }
}

resource "tencentcloud_vpn_gateway" "postpaid" {
  name      = "test"
  vpc_id    = "vpc-dk8zmwuf"
  bandwidth = 5
  zone      = "ap-guangzhou-3"

  tags = {
    test = "test"
  }
}

resource "tencentcloud_vpn_gateway" "prepaid" {
  name           = "test"
  vpc_id         = "vpc-dk8zmwuf"
  bandwidth      = 5
  zone           = "ap-guangzhou-3"
  charge_type    = "PREPAID"
  prepaid_period = 1

  tags = {
    test = "test"
  }
}
