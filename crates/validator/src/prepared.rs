//! Keys prepared once, when they are loaded, with the crypto backend itself.
//!
//! jsonwebtoken's verifier factory builds a fresh HMAC key (hashing the padded secret) or
//! parses the public key again for every token. A [`PreparedHmac`] keeps that setup for
//! HS256, HS384 and HS512, and a [`PreparedPublicKey`] keeps a parsed RSA, EC or Ed25519
//! key per algorithm. Both are `Send + Sync`, so one validator shares them between
//! threads. Public keys are prepared with `aws-lc-rs` only; with `rust-crypto` they go
//! through the factory as before.

use warden_claims::Algorithm;

/// The prepared HMAC keys of one secret, for every HS* algorithm.
pub(crate) use backend::PreparedHmac;
/// One public key parsed for each algorithm it may verify.
pub(crate) use backend::PreparedPublicKey;

#[cfg(feature = "aws-lc-rs")]
mod backend {
    use aws_lc_rs::hmac;
    use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
    use warden_claims::Algorithm;

    pub(crate) struct PreparedPublicKey {
        keys: Vec<(Algorithm, ParsedPublicKey)>,
    }

    impl PreparedPublicKey {
        /// Parses `bytes` (a PKCS#1 RSA key, an uncompressed EC point or a raw Ed25519
        /// key) for each of `algorithms`. Returns `None` when any of them rejects the bytes.
        pub(crate) fn new(bytes: &[u8], algorithms: &[Algorithm]) -> Option<Self> {
            let keys = algorithms
                .iter()
                .map(|algorithm| {
                    let parsed = ParsedPublicKey::new(verification(*algorithm)?, bytes).ok()?;
                    Some((*algorithm, parsed))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(PreparedPublicKey { keys })
        }

        /// Verifies `signature`; `None` when the key was not prepared for `algorithm`.
        pub(crate) fn verify(
            &self,
            algorithm: Algorithm,
            message: &[u8],
            signature: &[u8],
        ) -> Option<bool> {
            let (_, key) = self
                .keys
                .iter()
                .find(|(prepared, _)| *prepared == algorithm)?;
            Some(key.verify_sig(message, signature).is_ok())
        }
    }

    /// Returns the aws-lc-rs algorithm jsonwebtoken 12 verifies `algorithm` with.
    fn verification(algorithm: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
        let verification: &'static dyn VerificationAlgorithm = match algorithm {
            Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
            Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
            Algorithm::EdDSA => &signature::ED25519,
            _ => return None,
        };
        Some(verification)
    }

    pub(crate) struct PreparedHmac {
        hs256: hmac::Key,
        hs384: hmac::Key,
        hs512: hmac::Key,
    }

    impl PreparedHmac {
        pub(crate) fn new(secret: &[u8]) -> Option<Self> {
            Some(PreparedHmac {
                hs256: hmac::Key::new(hmac::HMAC_SHA256, secret),
                hs384: hmac::Key::new(hmac::HMAC_SHA384, secret),
                hs512: hmac::Key::new(hmac::HMAC_SHA512, secret),
            })
        }

        /// Verifies `tag` in constant time; `None` for an algorithm that is not HS*.
        pub(crate) fn verify(
            &self,
            algorithm: Algorithm,
            message: &[u8],
            tag: &[u8],
        ) -> Option<bool> {
            let key = match algorithm {
                Algorithm::HS256 => &self.hs256,
                Algorithm::HS384 => &self.hs384,
                Algorithm::HS512 => &self.hs512,
                _ => return None,
            };
            Some(hmac::verify(key, message, tag).is_ok())
        }
    }
}

#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
mod backend {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2_011::{Sha256, Sha384, Sha512};
    use warden_claims::Algorithm;

    pub(crate) use super::unprepared::PreparedPublicKey;

    /// HMAC states with the secret already absorbed; each check clones one.
    pub(crate) struct PreparedHmac {
        hs256: Hmac<Sha256>,
        hs384: Hmac<Sha384>,
        hs512: Hmac<Sha512>,
    }

    impl PreparedHmac {
        pub(crate) fn new(secret: &[u8]) -> Option<Self> {
            Some(PreparedHmac {
                hs256: Hmac::new_from_slice(secret).ok()?,
                hs384: Hmac::new_from_slice(secret).ok()?,
                hs512: Hmac::new_from_slice(secret).ok()?,
            })
        }

        /// Verifies `tag` in constant time; `None` for an algorithm that is not HS*.
        pub(crate) fn verify(
            &self,
            algorithm: Algorithm,
            message: &[u8],
            tag: &[u8],
        ) -> Option<bool> {
            fn check<M: Mac + Clone>(state: &M, message: &[u8], tag: &[u8]) -> bool {
                let mut mac = state.clone();
                mac.update(message);
                mac.verify_slice(tag).is_ok()
            }
            match algorithm {
                Algorithm::HS256 => Some(check(&self.hs256, message, tag)),
                Algorithm::HS384 => Some(check(&self.hs384, message, tag)),
                Algorithm::HS512 => Some(check(&self.hs512, message, tag)),
                _ => None,
            }
        }
    }
}

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
mod backend {
    use warden_claims::Algorithm;

    pub(crate) use super::unprepared::PreparedPublicKey;

    /// Without a backend feature nothing is prepared, and verification goes through the
    /// installed jsonwebtoken provider.
    pub(crate) struct PreparedHmac;

    impl PreparedHmac {
        pub(crate) fn new(_secret: &[u8]) -> Option<Self> {
            None
        }

        pub(crate) fn verify(
            &self,
            _algorithm: Algorithm,
            _message: &[u8],
            _tag: &[u8],
        ) -> Option<bool> {
            None
        }
    }
}

/// Stand-in for backends whose public keys are not prepared: every check goes through the
/// installed jsonwebtoken provider.
#[cfg(not(feature = "aws-lc-rs"))]
mod unprepared {
    use warden_claims::Algorithm;

    pub(crate) struct PreparedPublicKey;

    impl PreparedPublicKey {
        pub(crate) fn new(_bytes: &[u8], _algorithms: &[Algorithm]) -> Option<Self> {
            None
        }

        pub(crate) fn verify(
            &self,
            _algorithm: Algorithm,
            _message: &[u8],
            _signature: &[u8],
        ) -> Option<bool> {
            None
        }
    }
}

/// Keys of one [`crate::VerificationKey`] that were set up when it was loaded.
#[derive(Default)]
pub(crate) struct Prepared {
    /// HMAC keys, for a secret.
    pub(crate) hmac: Option<PreparedHmac>,
    /// Parsed public keys, for an RSA, EC or Ed25519 key.
    pub(crate) public: Option<PreparedPublicKey>,
}

impl Prepared {
    /// Verifies `signature` with a prepared key; `None` means the caller must use the
    /// provider's verifier instead.
    pub(crate) fn verify(
        &self,
        algorithm: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Option<bool> {
        if let Some(hmac) = &self.hmac {
            return hmac.verify(algorithm, message, signature);
        }
        self.public.as_ref()?.verify(algorithm, message, signature)
    }
}
