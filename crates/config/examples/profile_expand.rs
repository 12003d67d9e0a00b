use std::time::Instant;
use tunnelform_config::{Config, NoLookup, VarInputs};
fn main() {
    let dir = std::path::Path::new(&std::env::args().nth(1).unwrap()).to_path_buf();
    let what = std::env::args().nth(2).unwrap_or_default();
    let t = Instant::now();
    let (cfg, _) = Config::load(&dir, &VarInputs::default()).unwrap();
    eprintln!("load {:?}", t.elapsed());
    if what == "one" {
        let one: tunnelform_model::Address = "tencentcloud_vpn_connection.site[\"s04242\"]"
            .parse()
            .unwrap();
        let t = Instant::now();
        for _ in 0..50 {
            cfg.eval_instance(&one, &NoLookup).unwrap();
        }
        eprintln!("eval one x50 {:?}", t.elapsed());
        return;
    }
    for a in cfg.block_order().unwrap() {
        let t = Instant::now();
        let n = cfg.expand_block(&a, &NoLookup).unwrap().len();
        eprintln!("expand {a} {n} {:?}", t.elapsed());
    }
}
