# Route-based VPN: two redundant StaticRoute tunnels from one VPN gateway to two customer gateways
# (a primary and a backup router in the data centre), with health checks. Each tunnel carries its
# own route to its router's loopback (`route`, write-only). The gateway sends the
# data centre's ranges into the primary tunnel (priority 0) and falls back to the backup one
# (priority 100); the VPC's default route table sends them to the gateway. The primary router's
# configuration (it holds the pre-shared key) is a sensitive output: plans, logs and the state
# never show it.
#
#   cargo run --release -- apply --sandbox --auto-approve examples/route-based
#   cargo run --release -- plan --sandbox examples/route-based      # No changes.

provider "tencentcloud" {
  region = "ap-guangzhou"
}

variable "pre_share_key" {
  description = "Pre-shared key of both tunnels (use TF_VAR_pre_share_key in real life)."
  type        = string
  default     = "route-based-demo-key-0001"
  sensitive   = true
}

locals {
  vpc_id = "vpc-sandbox1"
  # The data centre's ranges: reached through the tunnels.
  dc_ranges = ["192.168.0.0/20", "172.20.0.0/16"]
  routers = {
    primary = { ip = "203.0.113.10", priority = 0, loopback = "192.168.255.1/32" }
    backup  = { ip = "203.0.113.11", priority = 100, loopback = "192.168.255.2/32" }
  }
  # Every (router, range) pair: one gateway route each.
  gateway_routes = {
    for pair in setproduct(keys(local.routers), local.dc_ranges) :
    "${pair[0]} ${pair[1]}" => { router = pair[0], range = pair[1] }
  }
}

resource "tencentcloud_vpn_gateway" "main" {
  name      = "route-based-gw"
  vpc_id    = local.vpc_id
  bandwidth = 10
}

resource "tencentcloud_vpn_customer_gateway" "router" {
  for_each          = local.routers
  name              = "dc-${each.key}"
  public_ip_address = each.value.ip
}

resource "tencentcloud_vpn_connection" "dc" {
  for_each            = local.routers
  name                = "dc-${each.key}"
  vpc_id              = local.vpc_id
  vpn_gateway_id      = tencentcloud_vpn_gateway.main.id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.router[each.key].id
  pre_share_key       = var.pre_share_key
  route_type          = "StaticRoute"

  ike_proto_encry_algorithm  = "AES-CBC-256"
  ike_proto_authen_algorithm = "SHA-256"
  ike_dh_group_name          = "GROUP14"
  ike_version                = "IKEV2"
  ipsec_encrypt_algorithm    = "AES-CBC-256"
  ipsec_integrity_algorithm  = "SHA-256"
  ipsec_pfs_dh_group         = "DH-GROUP14"

  # The tunnel's own route (sent on create only; a change replaces the tunnel): each router's
  # loopback, for monitoring it through its own tunnel.
  route {
    destination_cidr_block = each.value.loopback
    priority               = each.value.priority
    description            = "dc-${each.key} loopback"
  }

  dpd_enable          = 1
  dpd_timeout         = 30
  enable_health_check = true
  health_check_config {
    probe_interval  = 5000
    probe_threshold = 3
    probe_timeout   = 150
  }
}

# The gateway's routes into the tunnels: the primary first, the backup when the primary is down.
resource "tencentcloud_vpn_gateway_route" "dc" {
  for_each               = local.gateway_routes
  vpn_gateway_id         = tencentcloud_vpn_gateway.main.id
  destination_cidr_block = each.value.range
  instance_type          = "VPNCONN"
  instance_id            = tencentcloud_vpn_connection.dc[each.value.router].id
  priority               = local.routers[each.value.router].priority
  status                 = "ENABLE"
}

# The VPC's default route table sends the data centre's ranges to the gateway.
data "tencentcloud_vpc_route_tables" "main" {
  vpc_id           = local.vpc_id
  association_main = true
}

resource "tencentcloud_route_table_entry" "dc" {
  for_each               = toset(local.dc_ranges)
  route_table_id         = data.tencentcloud_vpc_route_tables.main.instance_list[0].route_table_id
  destination_cidr_block = each.value
  next_type              = "VPN"
  next_hub               = tencentcloud_vpn_gateway.main.id
  description            = "data centre via VPN"
}

# What to type on the primary router.
data "tencentcloud_vpn_customer_gateway_configuration_download" "primary" {
  vpn_gateway_id    = tencentcloud_vpn_gateway.main.id
  vpn_connection_id = tencentcloud_vpn_connection.dc["primary"].id
  customer_gateway_vendor {
    platform         = "comware"
    software_version = "V1.0"
    vendor_name      = "h3c"
  }
  interface_name = "GigabitEthernet1/0/1"
}

output "primary_router_config" {
  value     = data.tencentcloud_vpn_customer_gateway_configuration_download.primary.customer_gateway_configuration
  sensitive = true
}

output "gateway_route_ids" {
  value = [for r in tencentcloud_vpn_gateway_route.dc : r.id]
}
