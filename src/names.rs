//! Kubernetes object names, and the ordered name lists the rules build.

/// Whether `s` is a DNS-1123 subdomain, the form Kubernetes requires for Secret names:
/// at most 253 characters matching `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    fn is_label(label: &str) -> bool {
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
            }
            _ => false,
        }
    }
    s.len() <= 253 && s.split('.').all(is_label)
}

/// Whether `s` is a DNS-1123 label, the form Kubernetes requires for namespace names.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns1123_subdomain(s)
}

/// Append the `names` that `list` lacks, in order: lists of pull secrets and namespaces grow in
/// rule order and never hold a name twice.
pub fn append_missing(list: &mut Vec<String>, names: impl IntoIterator<Item = String>) {
    for name in names {
        if !list.contains(&name) {
            list.push(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns1123_names() {
        // (name, subdomain, label)
        let cases = [
            ("pull", true, true),
            ("a-1", true, true),
            ("harbor.example.com", true, false),
            ("", false, false),
            ("-a", false, false),
            ("a-", false, false),
            ("A", false, false),
            ("a..b", false, false),
            ("a_b", false, false),
        ];
        for (name, subdomain, label) in cases {
            assert_eq!(is_dns1123_subdomain(name), subdomain, "{name}");
            assert_eq!(is_dns1123_label(name), label, "{name}");
        }
        assert!(is_dns1123_label(&"a".repeat(63)));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1123_subdomain("a.".repeat(126).trim_end_matches('.')));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
    }

    #[test]
    fn dns1123_subdomain() {
        let ok = [
            "a",
            "0",
            "regcred",
            "reg-cred",
            "a.b",
            "a-1.b-2.c",
            "123",
            "a--b",
        ];
        for s in ok {
            assert!(is_dns1123_subdomain(s), "{s}");
        }
        let bad = [
            "", "-a", "a-", ".a", "a.", "a..b", "A", "a_b", "a b", "a.-b", "a-.b", "ü", "a/b",
        ];
        for s in bad {
            assert!(!is_dns1123_subdomain(s), "{s}");
        }
        let label = "a".repeat(63);
        let max = [label.as_str(); 4].join(".");
        assert_eq!(max.len(), 255);
        assert!(!is_dns1123_subdomain(&max));
        assert!(is_dns1123_subdomain(&max[..253]));
        // The subdomain regex has no per-label length limit, only the total one.
        assert!(is_dns1123_subdomain(&"a".repeat(253)));
        assert!(!is_dns1123_subdomain(&"a".repeat(254)));
    }

    #[test]
    fn append_missing_keeps_order_and_never_duplicates() {
        let cases: [(&[&str], &[&str], &[&str]); 4] = [
            (&[], &["a", "b"], &["a", "b"]),
            (&["a"], &["b", "a"], &["a", "b"]),
            (&["a", "b"], &["b", "b", "c"], &["a", "b", "c"]),
            (&["x"], &[], &["x"]),
        ];
        for (list, names, want) in cases {
            let mut list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            append_missing(&mut list, names.iter().map(|s| s.to_string()));
            assert_eq!(list, want);
        }
    }
}
