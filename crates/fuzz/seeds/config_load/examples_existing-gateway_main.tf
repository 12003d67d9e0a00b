# Existing gateway: tunnels on a VPN gateway that this configuration does not manage. The gateway
# is found by name through a data source, its VPC through another, and only the customer gateways
# and tunnels below belong to this configuration (destroying it leaves the gateway alone).
#
# The gateway must exist first. Against the embedded sandbox, create it with the quickstart (its
# gateway is named "quickstart-gw"); see README.md in this directory.

provider "tencentcloud" {
  region = "ap-guangzhou"
}

variable "gateway_name" {
  description = "Name of the existing VPN gateway to attach the tunnels to."
  type        = string
  default     = "quickstart-gw"
}

variable "branches" {
  description = "Branch offices by name: public IP of their VPN device and their LAN."
  type = map(object({
    public_ip = string
    lan_cidr  = string
  }))
  default = {
    warehouse = { public_ip = "198.51.100.77", lan_cidr = "172.20.0.0/16" }
    lab       = { public_ip = "198.51.100.78", lan_cidr = "172.21.0.0/16" }
  }
}

variable "pre_share_key" {
  description = "Pre-shared key of the tunnels (use TF_VAR_pre_share_key in real life)."
  type        = string
  default     = "existing-gateway-demo-key"
  sensitive   = true
}

data "tencentcloud_vpn_gateways" "existing" {
  name = var.gateway_name
}

locals {
  # The data source lists every gateway with that name; exactly one is expected.
  gateway = data.tencentcloud_vpn_gateways.existing.gateway_list[0]
}

data "tencentcloud_vpc_instances" "gateway_vpc" {
  vpc_id = local.gateway.vpc_id
}

resource "tencentcloud_vpn_customer_gateway" "branch" {
  for_each          = var.branches
  name              = "branch-${each.key}"
  public_ip_address = each.value.public_ip
}

resource "tencentcloud_vpn_connection" "branch" {
  for_each            = var.branches
  name                = "branch-${each.key}"
  vpc_id              = local.gateway.vpc_id
  vpn_gateway_id      = local.gateway.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.branch[each.key].id
  pre_share_key       = var.pre_share_key

  # The whole VPC of the gateway talks to the branch's LAN.
  security_group_policy {
    local_cidr_block  = data.tencentcloud_vpc_instances.gateway_vpc.instance_list[0].cidr_block
    remote_cidr_block = [each.value.lan_cidr]
  }

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"

  tags = {
    branch = each.key
  }
}

output "gateway_id" {
  value = local.gateway.id
}

output "gateway_public_ip" {
  value = local.gateway.public_ip_address
}

output "tunnel_ids" {
  value = { for name, t in tencentcloud_vpn_connection.branch : name => t.id }
}
