//! "Did you mean ...?" suggestions.

/// The candidate closest to `input`, if it is close enough to be a plausible typo.
pub fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = input.to_ascii_lowercase();
    let mut best: Option<(&'a str, f64)> = None;
    for c in candidates {
        if c == input {
            continue;
        }
        let score = if c.eq_ignore_ascii_case(input) {
            1.0
        } else if digits(c) != digits(input) {
            // `GROUP15` is not a typo of `GROUP1`, nor `AES-CBC-129` of `AES-CBC-128`: numbers
            // name different things (often weaker ones). No suggestion; the caller lists them.
            continue;
        } else {
            let jw = strsim::jaro_winkler(&lower, &c.to_ascii_lowercase());
            let lev = strsim::levenshtein(&lower, &c.to_ascii_lowercase());
            // A small edit distance is convincing even for short names.
            if lev <= 2 && lev < c.len().max(input.len()) {
                jw.max(0.85)
            } else {
                jw
            }
        };
        if score >= 0.8 && best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.map(|(c, _)| c)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// ` Did you mean "x"?` or an empty string.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(input, candidates).map(|c| format!("did you mean \"{c}\"?"))
}

/// A readable list: `"a", "b" or "c"`.
pub fn one_of(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("\"{i}\"")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_typos_only() {
        let names = [
            "pre_share_key",
            "vpn_gateway_id",
            "customer_gateway_id",
            "name",
        ];
        assert_eq!(closest("pre_shared_key", names), Some("pre_share_key"));
        assert_eq!(closest("vpn_gatway_id", names), Some("vpn_gateway_id"));
        assert_eq!(closest("nmae", names), Some("name"));
        assert_eq!(closest("completely_unrelated", names), None);
        assert_eq!(closest("ikev2", ["IKEV1", "IKEV2"]), Some("IKEV2"));
    }

    #[test]
    fn lists_read_well() {
        assert_eq!(one_of(&["a", "b", "c"]), "\"a\", \"b\" or \"c\"");
        assert_eq!(one_of(&["a"]), "\"a\"");
    }
}
