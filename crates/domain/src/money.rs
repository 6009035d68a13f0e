//! Amounts of money as a receipt writes them in words ("bằng chữ"): 150000 is "Một trăm năm
//! mươi nghìn đồng". Pure text; how figures are grouped (150.000) is `msg::number`'s.

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];
/// The name of each group of three digits, from the units up.
const GROUPS: [&str; 7] = ["", "nghìn", "triệu", "tỷ", "nghìn tỷ", "triệu tỷ", "tỷ tỷ"];

/// One group of three digits (0 < n < 1000). `leading`: the most significant group, which
/// says no "không trăm" and no "linh" before a lone unit.
fn group(n: u64, leading: bool, out: &mut Vec<&'static str>) {
    let (h, t, u) = ((n / 100) as usize, (n / 10 % 10) as usize, (n % 10) as usize);
    if h > 0 || !leading {
        out.extend([DIGITS[h], "trăm"]);
    }
    match t {
        0 if u > 0 && (h > 0 || !leading) => out.push("linh"),
        0 => {}
        1 => out.push("mười"),
        _ => out.extend([DIGITS[t], "mươi"]),
    }
    match (t, u) {
        (_, 0) => {}
        (2.., 1) => out.push("mốt"),
        (1.., 5) => out.push("lăm"),
        _ => out.push(DIGITS[u]),
    }
}

/// An amount in đồng in words, capitalised, ending "đồng".
pub fn vnd_in_words(amount: u64) -> String {
    let mut groups = Vec::new();
    let mut rest = amount;
    while rest > 0 {
        groups.push(rest % 1000);
        rest /= 1000;
    }
    let mut words: Vec<&'static str> = Vec::new();
    let top = groups.len().saturating_sub(1);
    for (i, &g) in groups.iter().enumerate().rev() {
        if g == 0 {
            continue;
        }
        group(g, i == top, &mut words);
        if !GROUPS[i].is_empty() {
            words.push(GROUPS[i]);
        }
    }
    if words.is_empty() {
        words.push("không");
    }
    words.push("đồng");
    let text = words.join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::vnd_in_words;

    #[test]
    fn amounts_read_as_a_receipt_writes_them() {
        for (n, words) in [
            (0, "Không đồng"),
            (5, "Năm đồng"),
            (10, "Mười đồng"),
            (15, "Mười lăm đồng"),
            (21, "Hai mươi mốt đồng"),
            (25, "Hai mươi lăm đồng"),
            (105, "Một trăm linh năm đồng"),
            (110, "Một trăm mười đồng"),
            (2_015, "Hai nghìn không trăm mười lăm đồng"),
            (50_000, "Năm mươi nghìn đồng"),
            (150_000, "Một trăm năm mươi nghìn đồng"),
            (1_000_001, "Một triệu không trăm linh một đồng"),
            (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
            (3_000_000_000, "Ba tỷ đồng"),
            (1_000_000_000_000, "Một nghìn tỷ đồng"),
        ] {
            assert_eq!(vnd_in_words(n), words, "{n}");
        }
        assert!(vnd_in_words(u64::MAX).ends_with(" đồng"));
    }
}
