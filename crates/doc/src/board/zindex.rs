//! Fractional order keys: a string strictly between any two others, so a shape is reordered by
//! writing one key, never by moving it in a list.
//!
//! This is the key format of the `fractional-indexing` npm package (David Greenspan's
//! "Implementing Fractional Indexing", base 62) that the web client uses, ported so that the
//! server and the client produce the same key for the same request: a variable-length integer
//! part (its head letter gives its length) followed by a fraction without trailing zeros. No Rust
//! crate speaks this format (`fractional_index` encodes bytes differently), and a key either side
//! writes must be one the other can extend.

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const ZERO: u8 = b'0';
const LAST: u8 = b'z';

/// A key that is not in the format, or a request that has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZIndexError {
    #[error("invalid order key {0:?}")]
    Invalid(String),
    #[error("no key between equal keys {0:?} and {1:?}")]
    Equal(String, String),
    #[error("order key space exhausted")]
    Exhausted,
}

/// The key strictly between `a` and `b` (`None` is the open end), as the npm package computes it.
/// Equal keys have nothing between them.
pub fn key_between(a: Option<&str>, b: Option<&str>) -> Result<String, ZIndexError> {
    if let Some(a) = a {
        validate(a)?;
    }
    if let Some(b) = b {
        validate(b)?;
    }
    match (a, b) {
        (None, None) => Ok("a0".to_owned()),
        (None, Some(b)) => {
            let ib = integer_part(b)?;
            let fb = &b[ib.len()..];
            if is_smallest_integer(ib) {
                return Ok(format!("{ib}{}", midpoint(b"", Some(fb.as_bytes()))));
            }
            if ib.len() < b.len() {
                return Ok(ib.to_owned());
            }
            decrement(ib).ok_or(ZIndexError::Exhausted)
        }
        (Some(a), None) => {
            let ia = integer_part(a)?;
            let fa = &a[ia.len()..];
            Ok(match increment(ia) {
                Some(i) => i,
                None => format!("{ia}{}", midpoint(fa.as_bytes(), None)),
            })
        }
        (Some(a), Some(b)) => {
            if a == b {
                return Err(ZIndexError::Equal(a.to_owned(), b.to_owned()));
            }
            // Given in either order, as the npm package (4.x) accepts them.
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            let ia = integer_part(a)?;
            let fa = &a[ia.len()..];
            let ib = integer_part(b)?;
            let fb = &b[ib.len()..];
            if ia == ib {
                return Ok(format!("{ia}{}", midpoint(fa.as_bytes(), Some(fb.as_bytes()))));
            }
            let i = increment(ia).ok_or(ZIndexError::Exhausted)?;
            if i.as_str() < b {
                Ok(i)
            } else {
                Ok(format!("{ia}{}", midpoint(fa.as_bytes(), None)))
            }
        }
    }
}

/// Whether `key` is a well-formed order key.
pub fn is_valid(key: &str) -> bool {
    validate(key).is_ok()
}

fn digit(c: u8) -> usize {
    DIGITS.iter().position(|d| *d == c).unwrap_or(0)
}

/// A fraction strictly between `a` and `b` (digits only, `b = None` meaning 1), with `a < b`
/// and neither ending in a zero, as the validation upstream guarantees.
fn midpoint(a: &[u8], b: Option<&[u8]>) -> String {
    if let Some(b) = b {
        // Drop the common prefix, reading `a` as padded with zeros.
        let n = b
            .iter()
            .enumerate()
            .take_while(|(i, c)| a.get(*i).copied().unwrap_or(ZERO) == **c)
            .count();
        if n > 0 {
            let rest_a = if n < a.len() { &a[n..] } else { &[][..] };
            let prefix = String::from_utf8_lossy(&b[..n]);
            return format!("{prefix}{}", midpoint(rest_a, Some(&b[n..])));
        }
    }
    let digit_a = a.first().map_or(0, |c| digit(*c));
    let digit_b = b.and_then(|b| b.first()).map_or(DIGITS.len(), |c| digit(*c));
    if digit_b.saturating_sub(digit_a) > 1 {
        // Math.round(0.5 * (a + b)) rounds halves up, as a ceiling division does.
        let mid = (digit_a + digit_b).div_ceil(2);
        return char::from(DIGITS[mid]).to_string();
    }
    match b {
        Some(b) if b.len() > 1 => char::from(b[0]).to_string(),
        _ => {
            let rest = if a.is_empty() { a } else { &a[1..] };
            format!("{}{}", char::from(DIGITS[digit_a]), midpoint(rest, None))
        }
    }
}

fn integer_len(head: u8) -> Option<usize> {
    match head {
        b'a'..=b'z' => Some(usize::from(head - b'a') + 2),
        b'A'..=b'Z' => Some(usize::from(b'Z' - head) + 2),
        _ => None,
    }
}

fn integer_part(key: &str) -> Result<&str, ZIndexError> {
    let invalid = || ZIndexError::Invalid(key.to_owned());
    let len = key.bytes().next().and_then(integer_len).ok_or_else(invalid)?;
    key.get(..len).ok_or_else(invalid)
}

fn is_smallest_integer(int: &str) -> bool {
    int.len() == 27 && int.starts_with('A') && int[1..].bytes().all(|c| c == ZERO)
}

fn validate(key: &str) -> Result<(), ZIndexError> {
    let invalid = || ZIndexError::Invalid(key.to_owned());
    if !key.bytes().all(|c| DIGITS.contains(&c)) {
        return Err(invalid());
    }
    let int = integer_part(key)?;
    if is_smallest_integer(key) || key[int.len()..].ends_with(char::from(ZERO)) {
        return Err(invalid());
    }
    if !int[1..].bytes().all(|c| DIGITS.contains(&c)) {
        return Err(invalid());
    }
    Ok(())
}

fn increment(int: &str) -> Option<String> {
    let bytes = int.as_bytes();
    let head = bytes[0];
    let mut digits = bytes[1..].to_vec();
    let mut carry = true;
    for d in digits.iter_mut().rev() {
        let next = digit(*d) + 1;
        if next == DIGITS.len() {
            *d = ZERO;
        } else {
            *d = DIGITS[next];
            carry = false;
            break;
        }
    }
    if carry {
        if head == b'Z' {
            return Some("a0".to_owned());
        }
        if head == b'z' {
            return None;
        }
        let new_head = head + 1;
        if new_head > b'a' {
            digits.push(ZERO);
        } else {
            digits.pop();
        }
        return Some(format!("{}{}", char::from(new_head), String::from_utf8_lossy(&digits)));
    }
    Some(format!("{}{}", char::from(head), String::from_utf8_lossy(&digits)))
}

fn decrement(int: &str) -> Option<String> {
    let bytes = int.as_bytes();
    let head = bytes[0];
    let mut digits = bytes[1..].to_vec();
    let mut borrow = true;
    for d in digits.iter_mut().rev() {
        let value = digit(*d);
        if value == 0 {
            *d = LAST;
        } else {
            *d = DIGITS[value - 1];
            borrow = false;
            break;
        }
    }
    if borrow {
        if head == b'a' {
            return Some("Zz".to_owned());
        }
        if head == b'A' {
            return None;
        }
        let new_head = head - 1;
        if new_head < b'Z' {
            digits.push(LAST);
        } else {
            digits.pop();
        }
        return Some(format!("{}{}", char::from(new_head), String::from_utf8_lossy(&digits)));
    }
    Some(format!("{}{}", char::from(head), String::from_utf8_lossy(&digits)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_keys_are_refused() {
        for key in ["", "a", "a00", "A00000000000000000000000000", "a0!", "b0"] {
            assert!(key_between(Some(key), None).is_err(), "{key:?}");
        }
        assert_eq!(
            key_between(Some("a1"), Some("a1")),
            Err(ZIndexError::Equal("a1".into(), "a1".into()))
        );
    }

    #[test]
    fn many_appends_and_prepends_stay_ordered() {
        let mut last = key_between(None, None).unwrap();
        for _ in 0..5000 {
            let next = key_between(Some(&last), None).unwrap();
            assert!(next > last, "{next} > {last}");
            last = next;
        }
        let mut first = "a0".to_owned();
        for _ in 0..5000 {
            let prev = key_between(None, Some(&first)).unwrap();
            assert!(prev < first, "{prev} < {first}");
            first = prev;
        }
        let (mut lo, hi) = ("a0".to_owned(), "a1".to_owned());
        for _ in 0..200 {
            let mid = key_between(Some(&lo), Some(&hi)).unwrap();
            assert!(lo < mid && mid < hi);
            lo = mid;
        }
    }
}
