terraform {
  backend "local" {
    path = "state/x.tfstate.json"
  }
}

variable "sites" {
  type = map(object({
    ip    = string
    cidrs = list(string)
    asn   = optional(number, 65000)
  }))
  default = {
    a = { ip = "203.0.113.1", cidrs = ["192.168.1.0/24"] }
    b = { ip = "203.0.113.2", cidrs = ["192.168.2.0/24", "192.168.3.0/24"] }
  }
  validation {
    condition     = alltrue([for k, s in var.sites : can(cidrhost("${s.ip}/32", 0))])
    error_message = "Each site needs an IPv4 address."
  }
}

variable "psk" {
  type      = string
  default   = "k"
  sensitive = true
}

locals {
  names  = sort(keys(var.sites))
  joined = join(",", [for n in local.names : upper(n)])
  tpl    = <<-EOT
    %{ for n in local.names ~}
    site ${n}
    %{ endfor ~}
  EOT
  maths  = max(1, 2, 3) + length(local.names) * 2 - 1 % 3
  cond   = length(local.names) > 1 ? "many" : "one"
  merged = merge({ a = 1 }, { b = 2 })
  spl    = [for s in values(var.sites) : s.cidrs...]
}

data "tencentcloud_vpc_instances" "v" {
  vpc_id = "vpc-sandbox1"
}

resource "tencentcloud_vpn_gateway" "gw" {
  name      = "gw-${local.cond}"
  vpc_id    = data.tencentcloud_vpc_instances.v.instance_list[0].vpc_id
  bandwidth = 5
  tags      = { team = "net" }
  lifecycle {
    prevent_destroy = false
    ignore_changes  = [tags]
  }
}

resource "tencentcloud_vpn_customer_gateway" "c" {
  for_each          = var.sites
  name              = "cgw-${each.key}"
  public_ip_address = each.value.ip
}

resource "tencentcloud_vpn_connection" "t" {
  for_each            = var.sites
  name                = "t-${each.key}"
  vpc_id              = "vpc-sandbox1"
  vpn_gateway_id      = tencentcloud_vpn_gateway.gw.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.c[each.key].id
  pre_share_key       = var.psk
  ike_proto_encry_algorithm = "AES-CBC-256"
  dynamic "security_group_policy" {
    for_each = each.value.cidrs
    content {
      local_cidr_block  = "10.0.${security_group_policy.key}.0/24"
      remote_cidr_block = [security_group_policy.value]
    }
  }
  depends_on = [tencentcloud_vpn_gateway.gw]
}

resource "tencentcloud_vpn_customer_gateway" "n" {
  count             = 2
  name              = format("n-%02d", count.index)
  public_ip_address = cidrhost("198.51.100.0/24", count.index + 1)
}

import {
  to = tencentcloud_vpn_gateway.gw
  id = "vpngw-12345678"
}

output "ids" {
  value       = { for k, v in tencentcloud_vpn_connection.t : k => v.id }
  description = "tunnel ids"
}

output "psk" {
  value     = var.psk
  sensitive = true
}
