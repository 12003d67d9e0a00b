# Modules: one hub VPN gateway, and the `modules/site` module called once per office listed in
# sites.csv (a customer gateway, a tunnel to the hub and the routes to the office's LAN per
# office). Adding an office is one line in the CSV. The module's outputs are read by the root's
# outputs.

provider "tencentcloud" {
  region = "ap-guangzhou"
}

variable "pre_share_key" {
  description = "Pre-shared key of the tunnels (use TF_VAR_pre_share_key in real life)."
  type        = string
  default     = "modules-demo-key-change-me"
  sensitive   = true
}

locals {
  # name,public_ip,lan_cidr -> { name = { name, public_ip, lan_cidr } }
  sites = { for s in csvdecode(file("${path.module}/sites.csv")) : s.name => s }
}

resource "tencentcloud_vpn_gateway" "hub" {
  name      = "modules-hub"
  vpc_id    = "vpc-sandbox1"
  bandwidth = 10
}

# The VPC's main route table: each office's module adds its LAN's route to the hub there.
data "tencentcloud_vpc_route_tables" "main" {
  vpc_id           = tencentcloud_vpn_gateway.hub.vpc_id
  association_main = true
}

module "site" {
  source   = "./modules/site"
  for_each = local.sites

  name           = each.key
  public_ip      = each.value.public_ip
  lan_cidr       = each.value.lan_cidr
  vpc_id         = tencentcloud_vpn_gateway.hub.vpc_id
  gateway_id     = tencentcloud_vpn_gateway.hub.id
  route_table_id = data.tencentcloud_vpc_route_tables.main.instance_list[0].route_table_id
  pre_share_key  = var.pre_share_key
}

output "tunnel_ids" {
  description = "Tunnel id by office."
  value       = { for name, site in module.site : name => site.tunnel_id }
}

output "shanghai_customer_gateway" {
  value = module.site["shanghai"].customer_gateway_id
}
