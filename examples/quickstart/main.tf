# Quickstart: one VPN gateway in the sandbox's default VPC, two customer gateways (two offices),
# and a tunnel to each with its SPD, IKE and IPsec settings.
#
#   cargo run --release -- apply --sandbox --auto-approve examples/quickstart
#   cargo run --release -- plan --sandbox examples/quickstart      # No changes.

provider "tencentcloud" {
  region = "ap-guangzhou"
}

variable "pre_share_key" {
  description = "Pre-shared key of both tunnels (use TF_VAR_pre_share_key in real life)."
  type        = string
  default     = "quickstart-demo-key-0001"
  sensitive   = true
}

locals {
  vpc_id = "vpc-sandbox1"
  offices = {
    shanghai = { ip = "203.0.113.10", cidr = "192.168.10.0/24" }
    beijing  = { ip = "198.51.100.20", cidr = "192.168.20.0/24" }
  }
}

resource "tencentcloud_vpn_gateway" "main" {
  name      = "quickstart-gw"
  vpc_id    = local.vpc_id
  bandwidth = 10
  tags = {
    team = "network"
  }
}

resource "tencentcloud_vpn_customer_gateway" "shanghai" {
  name              = "office-shanghai"
  public_ip_address = local.offices.shanghai.ip
}

resource "tencentcloud_vpn_customer_gateway" "beijing" {
  name              = "office-beijing"
  public_ip_address = local.offices.beijing.ip
}

resource "tencentcloud_vpn_connection" "shanghai" {
  name                = "to-shanghai"
  vpc_id              = local.vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.shanghai.id
  pre_share_key       = var.pre_share_key

  security_group_policy {
    local_cidr_block  = "10.0.1.0/24"
    remote_cidr_block = [local.offices.shanghai.cidr]
  }

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ike_sa_lifetime_seconds    = 28800
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"
  ipsec_sa_lifetime_seconds  = 3600
  dpd_enable                 = 1
  dpd_timeout                = 30
  dpd_action                 = "restart"

  tags = {
    site = "shanghai"
  }
}

resource "tencentcloud_vpn_connection" "beijing" {
  name                = "to-beijing"
  vpc_id              = local.vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.beijing.id
  pre_share_key       = var.pre_share_key

  security_group_policy {
    local_cidr_block  = "10.0.2.0/24"
    remote_cidr_block = [local.offices.beijing.cidr, "192.168.21.0/24"]
  }

  ike_proto_encry_algorithm  = "AES-CBC-128"
  ike_proto_authen_algorithm = "SHA"
  ipsec_encrypt_algorithm    = "AES-CBC-128"
  ipsec_integrity_algorithm  = "SHA1"
  negotiation_type           = "passive"
}

output "gateway_public_ip" {
  value = tencentcloud_vpn_gateway.main.public_ip_address
}

output "tunnel_ids" {
  value = [tencentcloud_vpn_connection.shanghai.id, tencentcloud_vpn_connection.beijing.id]
}
