terraform {
  required_version = ">= 1.5"

  backend "local" {
    path = "state/quickstart.tfstate.json"
  }
}

provider "tencentcloud" {
  region = var.region
}

variable "region" {
  type        = string
  default     = "ap-guangzhou"
  description = "Region of the VPN gateway."
}

variable "psk" {
  type      = string
  sensitive = true
  default   = "quickstart-shared-secret"

  validation {
    condition     = length(var.psk) >= 8
    error_message = "The pre-shared key must be at least 8 characters long."
  }
}

locals {
  vpc_id     = "vpc-sandbox1"
  local_cidr = "10.0.0.0/16"
  common_tags = {
    project = "quickstart"
    owner   = "network-team"
  }
  offices = {
    beijing  = { ip = "203.0.113.10", cidr = "192.168.10.0/24" }
    shanghai = { ip = "198.51.100.20", cidr = "192.168.20.0/24" }
  }
}

resource "tencentcloud_vpn_gateway" "main" {
  name      = "quickstart-gw"
  vpc_id    = local.vpc_id
  bandwidth = 10
  zone      = "${var.region}-3"
  tags      = merge(local.common_tags, { role = "gateway" })
}

resource "tencentcloud_vpn_customer_gateway" "beijing" {
  name              = "office-beijing"
  public_ip_address = local.offices.beijing.ip
  tags              = local.common_tags
}

resource "tencentcloud_vpn_customer_gateway" "shanghai" {
  name              = "office-shanghai"
  public_ip_address = local.offices["shanghai"].ip
  tags              = local.common_tags
}

resource "tencentcloud_vpn_connection" "beijing" {
  name                = "to-beijing"
  vpc_id              = local.vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.beijing.id
  pre_share_key       = var.psk

  security_group_policy {
    local_cidr_block  = local.local_cidr
    remote_cidr_block = [local.offices.beijing.cidr]
  }

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ike_version                = "IKEV2"
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"
  tags                       = local.common_tags
}

resource "tencentcloud_vpn_connection" "shanghai" {
  name                = "to-shanghai"
  vpc_id              = local.vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.shanghai.id
  pre_share_key       = var.psk

  security_group_policy {
    local_cidr_block  = local.local_cidr
    remote_cidr_block = [local.offices.shanghai.cidr, "192.168.21.0/24"]
  }

  dpd_enable  = 1
  dpd_timeout = 45
  dpd_action  = "restart"

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags]
  }
}

output "gateway_public_ip" {
  description = "Give this address to the offices."
  value       = tencentcloud_vpn_gateway.main.public_ip_address
}

output "tunnels" {
  value = {
    beijing  = tencentcloud_vpn_connection.beijing.id
    shanghai = tencentcloud_vpn_connection.shanghai.id
  }
}
