# The sites. Add one here (and run apply) to get its customer gateway and tunnel; remove one to
# delete them. LANs must not overlap the hub's VPC (10.0.0.0/16, 10.1.0.0/16) or each other.
sites = {
  paris = {
    region    = "ap-guangzhou"
    public_ip = "198.51.100.11"
    lan_cidrs = ["192.168.11.0/24"]
  }
  berlin = {
    region    = "ap-guangzhou"
    public_ip = "198.51.100.12"
    lan_cidrs = ["192.168.12.0/24", "192.168.13.0/24"]
  }
  osaka = {
    region    = "ap-shanghai"
    public_ip = "198.51.100.21"
    lan_cidrs = ["172.16.21.0/24"]
  }
  lima = {
    region    = "ap-shanghai"
    public_ip = "198.51.100.22"
    lan_cidrs = ["172.16.22.0/24"]
  }
}
