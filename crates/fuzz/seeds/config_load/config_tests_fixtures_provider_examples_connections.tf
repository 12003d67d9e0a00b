resource "tencentcloud_vpn_connection" "foo" {
  name                       = "vpn_connection_test"
  vpc_id                     = "vpc-dk8zmwuf"
  vpn_gateway_id             = "vpngw-8ccsnclt"
  customer_gateway_id        = "cgw-xfqag"
  pre_share_key              = "testt"
  ike_proto_encry_algorithm  = "3DES-CBC"
  ike_proto_authen_algorithm = "SHA"
  ike_local_identity         = "ADDRESS"
  ike_exchange_mode          = "AGGRESSIVE"
  ike_local_address          = "1.1.1.1"
  ike_remote_identity        = "ADDRESS"
  ike_remote_address         = "2.2.2.2"
  ike_dh_group_name          = "GROUP2"
  ike_sa_lifetime_seconds    = 86401
  ipsec_encrypt_algorithm    = "3DES-CBC"
  ipsec_integrity_algorithm  = "SHA1"
  ipsec_sa_lifetime_seconds  = 7200
  ipsec_pfs_dh_group         = "NULL"
  ipsec_sa_lifetime_traffic  = 2570

  security_group_policy {
    local_cidr_block  = "172.16.0.0/16"
    remote_cidr_block = ["2.2.2.0/26", ]
  }
  tags = {
    test = "testt"
  }
}

# The newer style: health check, DPD, negotiation, references with the resource. prefix and
# legacy index syntax.
resource "tencentcloud_vpn_connection" "example" {
  name                       = "example"
  vpc_id                     = data.tencentcloud_vpc_instances.example.instance_list.0.vpc_id
  vpn_gateway_id             = tencentcloud_vpn_gateway.postpaid.id
  customer_gateway_id        = resource.tencentcloud_vpn_customer_gateway.example.id
  pre_share_key              = "your_pre_share_key"
  route_type                 = "StaticRoute"
  negotiation_type           = "flowTrigger"
  ike_proto_encry_algorithm  = "3DES-CBC"
  ike_proto_authen_algorithm = "SHA"
  ike_local_identity         = "ADDRESS"
  ike_exchange_mode          = "AGGRESSIVE"
  ike_local_address          = "159.75.204.38"
  ike_remote_identity        = "ADDRESS"
  ike_remote_address         = "109.244.60.154"
  ike_dh_group_name          = "GROUP2"
  ike_sa_lifetime_seconds    = 86400
  ipsec_encrypt_algorithm    = "3DES-CBC"
  ipsec_integrity_algorithm  = "SHA1"
  ipsec_sa_lifetime_seconds  = 14400
  ipsec_pfs_dh_group         = "NULL"
  ipsec_sa_lifetime_traffic  = 4096000000
  dpd_enable                 = 1
  dpd_timeout                = "30"
  dpd_action                 = "clear"
  enable_health_check        = true
  health_check_local_ip      = "169.254.227.187"
  health_check_remote_ip     = "169.254.164.37"

  health_check_config {
    probe_type      = "NQA"
    probe_interval  = 5000
    probe_threshold = 3
    probe_timeout   = 150
  }

  security_group_policy {
    local_cidr_block  = "172.16.0.0/22"
    remote_cidr_block = ["10.0.0.0/16"]
  }

  tags = {
    createBy = "Terraform"
  }
}
