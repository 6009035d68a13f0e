//! Authentic electronic results: a result file is known by its SHA-256; its verification
//! code is the digest's first 16 hex digits, written in four groups (`A1B2-C3D4-E5F6-0789`),
//! 64 bits — printed beside the result, typed or scanned to check it, never guessed.

/// Hex digits of the digest a verification code carries.
pub const CODE_DIGITS: usize = 16;

/// The verification code of a result file, from its SHA-256 (hex).
pub fn verification_code(sha256: &str) -> String {
    let head: String = sha256
        .chars()
        .take(CODE_DIGITS)
        .collect::<String>()
        .to_ascii_uppercase();
    head.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// What to look a result up by, from what was typed or scanned: the 16 hex digits of a
/// verification code or a whole 64-digit SHA-256, lower case; None when it is neither.
/// Spaces, dashes, case and a link around it (`…?ma=CODE`) do not matter.
pub fn parse(typed: &str) -> Option<String> {
    let text = typed.trim();
    let text = text.rsplit(['=', '/']).next().unwrap_or(text);
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
        .collect();
    let ok = (hex.len() == CODE_DIGITS || hex.len() == 64) && hex.chars().all(|c| c.is_ascii_hexdigit());
    ok.then(|| hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_the_digests_head_and_reads_back_however_typed() {
        let sha = "a1b2c3d4e5f60789aabbccddeeff00112233445566778899aabbccddeeff0011";
        let code = verification_code(sha);
        assert_eq!(code, "A1B2-C3D4-E5F6-0789");
        for typed in [
            code.as_str(),
            "a1b2 c3d4 e5f6 0789",
            " A1B2C3D4E5F60789 ",
            "https://x.vn/kiem-tra-ket-qua?ma=A1B2-C3D4-E5F6-0789",
        ] {
            assert_eq!(parse(typed).as_deref(), Some("a1b2c3d4e5f60789"), "{typed}");
        }
        assert_eq!(parse(sha).as_deref(), Some(sha));
        for bad in ["", "A1B2-C3D4", "G1B2-C3D4-E5F6-0789", "a1b2c3d4e5f607899"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
