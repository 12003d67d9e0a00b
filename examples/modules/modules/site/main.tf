# One office: its customer gateway (the office's VPN device), a tunnel to the hub, and the routes
# that send the office's LAN through it (the hub's gateway route into the tunnel, and the VPC's
# route table entry to the hub).

variable "name" {
  description = "Office name, used in the names of its objects."
  type        = string
}

variable "public_ip" {
  description = "Public IP of the office's VPN device."
  type        = string
}

variable "lan_cidr" {
  description = "The office's LAN, reached through the tunnel."
  type        = string
}

variable "vpc_id" {
  type = string
}

variable "gateway_id" {
  description = "The hub VPN gateway the tunnel ends on."
  type        = string
}

variable "route_table_id" {
  description = "The VPC route table that sends the office's LAN to the hub."
  type        = string
}

variable "local_cidr" {
  description = "The cloud side of the tunnel."
  type        = string
  default     = "10.0.0.0/16"
}

variable "pre_share_key" {
  type      = string
  sensitive = true
}

resource "tencentcloud_vpn_customer_gateway" "office" {
  name              = "office-${var.name}"
  public_ip_address = var.public_ip
}

resource "tencentcloud_vpn_connection" "primary" {
  name                = "office-${var.name}"
  vpc_id              = var.vpc_id
  vpn_gateway_id      = var.gateway_id
  customer_gateway_id = tencentcloud_vpn_customer_gateway.office.id
  pre_share_key       = var.pre_share_key

  security_group_policy {
    local_cidr_block  = var.local_cidr
    remote_cidr_block = [var.lan_cidr]
  }

  tags = {
    office = var.name
  }

  lifecycle {
    # Checked while planning, before anything is created for the office.
    precondition {
      condition     = var.lan_cidr != var.local_cidr
      error_message = "office ${var.name}'s LAN ${var.lan_cidr} is the cloud side of its tunnel; give the office its own range"
    }
  }
}

# The hub sends the office's LAN into this office's (route-based) tunnel.
resource "tencentcloud_vpn_gateway_route" "lan" {
  vpn_gateway_id         = var.gateway_id
  destination_cidr_block = var.lan_cidr
  instance_type          = "VPNCONN"
  instance_id            = tencentcloud_vpn_connection.primary.id
  priority               = 0
  status                 = "ENABLE"
}

# The VPC sends the office's LAN to the hub.
resource "tencentcloud_route_table_entry" "lan" {
  route_table_id         = var.route_table_id
  destination_cidr_block = var.lan_cidr
  next_type              = "VPN"
  next_hub               = var.gateway_id
  description            = "office ${var.name} via VPN"
}

output "tunnel_id" {
  value = tencentcloud_vpn_connection.primary.id
}

output "customer_gateway_id" {
  value = tencentcloud_vpn_customer_gateway.office.id
}
