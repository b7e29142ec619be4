//! Passwords of people (static login users): argon2id, PHC strings. Hashing is deliberately slow;
//! callers run it off the async threads.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::rand;

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct PasswordError;

/// Hashes a password into a PHC string (`$argon2id$v=19$...`).
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt).map_err(|_| PasswordError)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError)?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError)
}

/// Checks a password against a PHC string; a malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Whether `phc` is an argon2id hash Castellan will verify against: a PHC string whose cost
/// stays within bounds (memory at most 64 MiB, at most 10 passes, at most 4 lanes), so a hash
/// given to an import or the admin API cannot make sign-in exhaust the machine.
pub fn check_phc(phc: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(phc).map_err(|e| format!("not a PHC string: {e}"))?;
    if parsed.algorithm.as_str() != "argon2id" {
        return Err("must be an argon2id hash".into());
    }
    if parsed.hash.is_none() || parsed.salt.is_none() {
        return Err("must carry a salt and a hash".into());
    }
    let params = Params::try_from(&parsed).map_err(|e| format!("bad parameters: {e}"))?;
    if params.m_cost() > 64 * 1024 || params.t_cost() > 10 || params.p_cost() > 4 {
        return Err("cost too high (at most m=65536, t=10, p=4)".into());
    }
    Ok(())
}

/// Spends the time of one verification, for unknown users.
pub fn verify_dummy(password: &str) {
    const DUMMY: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ItJ3vaNNr5ZgPgx0Y9ruAfGyhXwHUFN+Qaw3GGlBuyw";
    let _ = verify(password, DUMMY);
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_bounded_argon2id_hashes_are_accepted() {
        let h = super::hash("pw").unwrap();
        assert!(super::check_phc(&h).is_ok());
        assert!(super::check_phc("plain text").is_err());
        let huge = h.replace("m=19456", "m=4194304");
        assert!(super::check_phc(&huge).unwrap_err().contains("cost"));
        let argon2i = h.replace("$argon2id$", "$argon2i$");
        assert!(super::check_phc(&argon2i).is_err());
    }

    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse", &h));
        assert!(!verify("wrong horse", &h));
        assert!(!verify("correct horse", "not a hash"));
        verify_dummy("anything");
    }
}
