# Multi-site: one hub VPN gateway in each of two regions, and for every site a customer gateway and
# a tunnel to the hub of the site's region. The sites are a map in a variable (terraform.tfvars);
# adding or removing a site there adds or removes exactly its objects.
#
# Against the embedded sandbox (its default VPCs: vpc-sandbox1 in ap-guangzhou, vpc-sandbox2 in
# ap-shanghai), from the repository root:
#
#   tunnelform apply --sandbox --auto-approve examples/multi-site
#   tunnelform plan --sandbox examples/multi-site        # No changes.
#   tunnelform destroy --sandbox --auto-approve examples/multi-site

provider "tencentcloud" {
  region = "ap-guangzhou"
}

provider "tencentcloud" {
  alias  = "shanghai"
  region = "ap-shanghai"
}

variable "sites" {
  description = "Sites by name: the region of the hub they connect to, the office's public IP and its LANs."
  type = map(object({
    region    = string
    public_ip = string
    lan_cidrs = list(string)
  }))

  validation {
    condition     = alltrue([for s in values(var.sites) : contains(["ap-guangzhou", "ap-shanghai"], s.region)])
    error_message = "Each site's region must be ap-guangzhou or ap-shanghai (the regions with a hub)."
  }
}

variable "pre_share_key" {
  description = "Pre-shared key of every tunnel (use TF_VAR_pre_share_key in real life)."
  type        = string
  default     = "multi-site-demo-key-0001"
  sensitive   = true
}

locals {
  hubs = {
    "ap-guangzhou" = { vpc_id = "vpc-sandbox1", vpc_cidr = "10.0.0.0/16" }
    "ap-shanghai"  = { vpc_id = "vpc-sandbox2", vpc_cidr = "10.1.0.0/16" }
  }

  # for_each needs a fixed provider per block, so the sites are split by region.
  guangzhou_sites = { for name, site in var.sites : name => site if site.region == "ap-guangzhou" }
  shanghai_sites  = { for name, site in var.sites : name => site if site.region == "ap-shanghai" }
}

# --- ap-guangzhou ---------------------------------------------------------------------------------

resource "tencentcloud_vpn_gateway" "guangzhou" {
  name      = "hub-guangzhou"
  vpc_id    = local.hubs["ap-guangzhou"].vpc_id
  bandwidth = 10
  tags = {
    role = "hub"
  }
}

resource "tencentcloud_vpn_customer_gateway" "guangzhou" {
  for_each          = local.guangzhou_sites
  name              = "site-${each.key}"
  public_ip_address = each.value.public_ip
}

resource "tencentcloud_vpn_connection" "guangzhou" {
  for_each            = local.guangzhou_sites
  name                = "to-${each.key}"
  vpc_id              = local.hubs["ap-guangzhou"].vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.guangzhou.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.guangzhou[each.key].id
  pre_share_key       = var.pre_share_key

  security_group_policy {
    local_cidr_block  = local.hubs["ap-guangzhou"].vpc_cidr
    remote_cidr_block = each.value.lan_cidrs
  }

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"
  dpd_enable                 = 1

  tags = {
    site = each.key
  }
}

# --- ap-shanghai ----------------------------------------------------------------------------------

resource "tencentcloud_vpn_gateway" "shanghai" {
  provider  = tencentcloud.shanghai
  name      = "hub-shanghai"
  vpc_id    = local.hubs["ap-shanghai"].vpc_id
  bandwidth = 10
  tags = {
    role = "hub"
  }
}

resource "tencentcloud_vpn_customer_gateway" "shanghai" {
  provider          = tencentcloud.shanghai
  for_each          = local.shanghai_sites
  name              = "site-${each.key}"
  public_ip_address = each.value.public_ip
}

resource "tencentcloud_vpn_connection" "shanghai" {
  provider            = tencentcloud.shanghai
  for_each            = local.shanghai_sites
  name                = "to-${each.key}"
  vpc_id              = local.hubs["ap-shanghai"].vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.shanghai.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.shanghai[each.key].id
  pre_share_key       = var.pre_share_key

  security_group_policy {
    local_cidr_block  = local.hubs["ap-shanghai"].vpc_cidr
    remote_cidr_block = each.value.lan_cidrs
  }

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"
  dpd_enable                 = 1

  tags = {
    site = each.key
  }
}

output "hub_public_ips" {
  value = {
    "ap-guangzhou" = tencentcloud_vpn_gateway.guangzhou.public_ip_address
    "ap-shanghai"  = tencentcloud_vpn_gateway.shanghai.public_ip_address
  }
}

output "tunnel_ids" {
  description = "Tunnel id of every site."
  value = merge(
    { for name, t in tencentcloud_vpn_connection.guangzhou : name => t.id },
    { for name, t in tencentcloud_vpn_connection.shanghai : name => t.id },
  )
}
