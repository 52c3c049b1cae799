//! Random ids and secrets, and the one-way hash under which secrets are stored.

use sha2::{Digest, Sha256};

/// `n` random bytes from the operating system, as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex(&bytes)
}

/// A new record id: 96 random bits.
pub(crate) fn new_id() -> String {
    random_hex(12)
}

/// A new block id for a document written by the server (imports, templates): BlockNote's ids
/// are unique strings.
pub fn block_id() -> String {
    random_hex(8)
}

/// A new bearer secret (session cookie or API token) with a recognisable prefix: 256 random bits.
pub(crate) fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", random_hex(32))
}

/// What is stored for a secret. The secrets are 256 random bits, so a fast hash suffices: there
/// is nothing to guess, only a leaked database to make useless.
pub(crate) fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed_one_way() {
        let a = new_secret("hrt_");
        let b = new_secret("hrt_");
        assert_ne!(a, b);
        assert_eq!(a.len(), 4 + 64);
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), secret_hash(&b));
        assert_eq!(new_id().len(), 24);
    }
}
