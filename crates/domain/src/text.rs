//! Vietnamese text folding for search: "Hồ sơ" and "ho so" fold to the same key.
//! Owns only string normalisation; the database decides how the folded text is indexed.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds Vietnamese text for accent- and case-insensitive search:
/// NFD, strip combining marks, đ/Đ → d, lowercase, collapse whitespace.
pub fn fold_vi(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Vietnamese without its diacritics, case kept (SMS gateways that take only ASCII):
/// "Hồ sơ đã được tiếp nhận" → "Ho so da duoc tiep nhan".
pub fn strip_marks(input: &str) -> String {
    input
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

/// Lower-case hexadecimal of bytes (digests, tokens).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {

    #[test]
    fn marks_are_stripped_and_case_kept() {
        assert_eq!(
            strip_marks("Hồ sơ ĐÃ được tiếp nhận: Đăng ký khai sinh"),
            "Ho so DA duoc tiep nhan: Dang ky khai sinh"
        );
        assert!(strip_marks("Ưu tiên, Ỷ lại, ơn").is_ascii());
    }

    use super::{fold_vi, strip_marks};

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
        assert_eq!(super::hex(&[]), "");
    }

    #[test]
    fn folds_tones_and_d_bar_and_case() {
        assert_eq!(fold_vi("Cấp giấy phép xây dựng"), "cap giay phep xay dung");
        assert_eq!(fold_vi("ĐĂNG KÝ ĐẤT ĐAI"), "dang ky dat dai");
        assert_eq!(fold_vi("Hồ sơ"), fold_vi("ho so"));
        assert_eq!(fold_vi("Thừa Thiên Huế"), "thua thien hue");
    }

    #[test]
    fn precomposed_and_decomposed_input_fold_alike() {
        let decomposed: String = "Hồ sơ".chars().collect::<String>().nfd_string();
        assert_eq!(fold_vi(&decomposed), "ho so");
    }

    #[test]
    fn collapses_and_trims_whitespace() {
        assert_eq!(fold_vi("  hộ   tịch\t"), "ho tich");
        assert_eq!(fold_vi(""), "");
    }

    trait Nfd {
        fn nfd_string(&self) -> String;
    }
    impl Nfd for String {
        fn nfd_string(&self) -> String {
            use unicode_normalization::UnicodeNormalization;
            self.nfd().collect()
        }
    }
}
