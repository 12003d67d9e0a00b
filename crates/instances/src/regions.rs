//! Tencent Cloud's region names, so that a misspelt region is caught by `validate` and `plan`
//! instead of failing the first API call of an apply.
//!
//! The list is the union of the regions the official Go SDK names (`tencentcloud/common/regions`)
//! and the regions the sandbox serves (FSI and newer regions the SDK's constants lack).

/// Every region name accepted in a provider block or in `TENCENTCLOUD_REGION`.
pub const REGIONS: &[&str] = &[
    "ap-bangkok",
    "ap-beijing",
    "ap-beijing-fsi",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-guangzhou-open",
    "ap-hongkong",
    "ap-jakarta",
    "ap-mumbai",
    "ap-nanjing",
    "ap-seoul",
    "ap-shanghai",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-taipei",
    "ap-tokyo",
    "eu-frankfurt",
    "eu-moscow",
    "na-ashburn",
    "na-siliconvalley",
    "na-toronto",
    "sa-saopaulo",
];

/// Whether `name` is a known region.
pub fn is_known_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

/// Why `name` is not a region, and how to fix it: `None` for a known region. The fix names the
/// region `name` is an obvious typo of (edit distance at most 2, or a difference of case only,
/// and no other region as close), else lists every region.
pub fn region_problem(name: &str) -> Option<(String, String)> {
    if is_known_region(name) {
        return None;
    }
    let detail = format!(
        "{:?} is not a Tencent Cloud region",
        tunnelform_syntax::clip_line(name)
    );
    let lower = name.to_ascii_lowercase();
    let mut best: Vec<(&str, usize)> = REGIONS
        .iter()
        .map(|r| (*r, strsim::levenshtein(&lower, r)))
        .filter(|(_, d)| *d <= 2)
        .collect();
    best.sort_by_key(|(_, d)| *d);
    let help = match best.as_slice() {
        [(r, _)] => format!("did you mean \"{r}\"?"),
        [(r, d0), (_, d1), ..] if d0 < d1 => format!("did you mean \"{r}\"?"),
        _ => format!("use one of {}", tunnelform_lang::suggest::one_of(REGIONS)),
    };
    Some((detail, help))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_are_suggested_and_others_listed() {
        assert!(region_problem("ap-guangzhou").is_none());
        let (d, h) = region_problem("ap-guangzou").unwrap();
        assert!(
            d.contains("\"ap-guangzou\" is not a Tencent Cloud region"),
            "{d}"
        );
        assert_eq!(h, "did you mean \"ap-guangzhou\"?");
        assert_eq!(
            region_problem("AP-Tokyo").unwrap().1,
            "did you mean \"ap-tokyo\"?"
        );
        let (_, h) = region_problem("us-east-1").unwrap();
        assert!(h.starts_with("use one of \"ap-bangkok\""), "{h}");
        assert!(h.contains("\"sa-saopaulo\""), "{h}");
    }
}
