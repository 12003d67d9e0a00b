provider "tencentcloud" {
  alias  = "sh"
  region = "ap-shanghai"
}
resource "tencentcloud_vpn_connection" "b" {
  provider            = tencentcloud.sh
  name                = "bgp"
  vpc_id              = "vpc-sandbox2"
  vpn_gateway_id      = "vpngw-12345678"
  customer_gateway_id = "cgw-12345678"
  pre_share_key       = "k"
  route_type          = "Bgp"
  bgp_config {
    tunnel_cidr   = "169.254.128.0/30"
    local_bgp_ip  = "169.254.128.1"
    remote_bgp_ip = "169.254.128.2"
  }
  enable_health_check = true
  health_check_local_ip = "169.254.1.1"
  health_check_remote_ip = "169.254.1.2"
  dpd_enable = 1
  dpd_timeout = "30"
  ipsec_pfs_dh_group = "DH-GROUP2"
}
