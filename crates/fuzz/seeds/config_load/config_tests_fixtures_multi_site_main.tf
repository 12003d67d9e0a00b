provider "tencentcloud" {
  region = "ap-guangzhou"
}

provider "tencentcloud" {
  alias  = "hongkong"
  region = "ap-hongkong"
}

variable "sites" {
  description = "Branch offices, by name."
  type = map(object({
    public_ip   = string
    cidrs       = list(string)
    region      = optional(string, "guangzhou")
    dpd_timeout = optional(number, 30)
  }))
}

variable "psk" {
  type      = string
  sensitive = true
}

locals {
  hubs = {
    guangzhou = { vpc = "vpc-sandbox1", cidr = "10.10.0.0/16" }
    hongkong  = { vpc = "vpc-sandbox2", cidr = "10.20.0.0/16" }
  }
  # Sites grouped by region.
  sites_by_region = { for name, s in var.sites : s.region => name... }
  sites_gz        = { for name, s in var.sites : name => s if s.region == "guangzhou" }
  sites_hk        = { for name, s in var.sites : name => s if s.region == "hongkong" }
}

resource "tencentcloud_vpn_gateway" "gz" {
  name      = "hub-guangzhou"
  vpc_id    = local.hubs.guangzhou.vpc
  bandwidth = 50
}

resource "tencentcloud_vpn_gateway" "hk" {
  provider  = tencentcloud.hongkong
  name      = "hub-hongkong"
  vpc_id    = local.hubs.hongkong.vpc
  bandwidth = 50
}

resource "tencentcloud_vpn_customer_gateway" "gz" {
  for_each          = local.sites_gz
  name              = "site-${each.key}"
  public_ip_address = each.value.public_ip
}

resource "tencentcloud_vpn_customer_gateway" "hk" {
  for_each          = local.sites_hk
  provider          = tencentcloud.hongkong
  name              = "site-${each.key}"
  public_ip_address = each.value.public_ip
}

resource "tencentcloud_vpn_connection" "gz" {
  for_each            = local.sites_gz
  name                = format("%s-%s", each.value.region, each.key)
  vpc_id              = local.hubs.guangzhou.vpc
  vpn_gateway_id      = tencentcloud_vpn_gateway.gz.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.gz[each.key].id
  pre_share_key       = var.psk
  dpd_enable          = 1
  dpd_timeout         = each.value.dpd_timeout

  dynamic "security_group_policy" {
    for_each = each.value.cidrs
    content {
      local_cidr_block  = local.hubs[each.value.region].cidr
      remote_cidr_block = [security_group_policy.value]
    }
  }

  tags = {
    site   = each.key
    region = each.value.region
  }
}

resource "tencentcloud_vpn_connection" "hk" {
  for_each            = local.sites_hk
  provider            = tencentcloud.hongkong
  name                = format("%s-%s", each.value.region, each.key)
  vpc_id              = local.hubs.hongkong.vpc
  vpn_gateway_id      = tencentcloud_vpn_gateway.hk.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.hk[each.key].id
  pre_share_key       = var.psk

  dynamic "security_group_policy" {
    for_each = each.value.cidrs
    iterator = cidr
    content {
      local_cidr_block  = local.hubs.hongkong.cidr
      remote_cidr_block = [cidr.value]
    }
  }
}

output "tunnel_ids" {
  value = merge(
    { for k, t in tencentcloud_vpn_connection.gz : k => t.id },
    { for k, t in tencentcloud_vpn_connection.hk : k => t.id },
  )
}

output "sites_by_region" {
  value = local.sites_by_region
}
