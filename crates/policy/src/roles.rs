//! Normal form for role names, so look-alike spellings compare equal.

use unicode_normalization::UnicodeNormalization;

/// Returns the normal form of a role name: NFKC, invisible characters removed, Unicode
/// full case folding, then surrounding white space trimmed.
///
/// `Root`, `root `, `ＲＯＯＴ` (full-width) and `ro\u{200B}ot` all normalise to `root`.
pub fn normalize_role(raw: &str) -> String {
    // For ASCII, NFKC changes nothing, no character is invisible and full case folding is
    // ASCII lowercasing, so the result equals that of the general path below.
    if raw.is_ascii() {
        return raw.trim().to_ascii_lowercase();
    }
    normalize_unicode(raw)
}

fn normalize_unicode(raw: &str) -> String {
    let visible: String = raw
        .nfkc()
        .filter(|character| !is_invisible(*character))
        .collect();
    let folded = caseless::default_case_fold_str(&visible);
    folded.nfkc().collect::<String>().trim().to_owned()
}

/// Returns true for default-ignorable and format characters that render as nothing.
fn is_invisible(character: char) -> bool {
    matches!(
        character,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_look_alikes() {
        for raw in [
            "root",
            "Root",
            "ROOT",
            "root ",
            " root\t",
            "ＲＯＯＴ",
            "ro\u{200B}ot",
            "\u{FEFF}root",
        ] {
            assert_eq!(normalize_role(raw), "root", "{raw:?}");
        }
        assert_eq!(normalize_role("SuperAdmin"), "superadmin");
        assert_eq!(normalize_role("Maße"), "masse");
        assert_ne!(normalize_role("roots"), "root");
    }

    #[test]
    fn ascii_path_matches_unicode_path() {
        let ascii: String = (0_u8..128).map(char::from).collect();
        let mut samples = vec![ascii.clone(), " \t\x0B\x0C\r\nRoot \r\n".to_owned()];
        samples.extend(ascii.chars().map(|character| format!(" a{character}B ")));
        for sample in samples {
            assert_eq!(
                normalize_role(&sample),
                normalize_unicode(&sample),
                "{sample:?}"
            );
        }
    }
}
