//! HMAC keys prepared once per secret with the crypto backend itself.
//!
//! jsonwebtoken's verifier factory builds a fresh HMAC key (hashing the padded secret)
//! for every token. A [`PreparedHmac`] keeps that setup for HS256, HS384 and HS512, and is
//! `Send + Sync`, so one validator shares it between threads.

use warden_claims::Algorithm;

/// The prepared HMAC keys of one secret, for every HS* algorithm.
pub(crate) use backend::PreparedHmac;

#[cfg(feature = "aws-lc-rs")]
mod backend {
    use aws_lc_rs::hmac;
    use warden_claims::Algorithm;

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

/// Verifies an HMAC tag with prepared keys when there are some; `None` means the caller
/// must use the provider's verifier instead.
pub(crate) fn verify_hmac(
    prepared: Option<&PreparedHmac>,
    algorithm: Algorithm,
    message: &[u8],
    tag: &[u8],
) -> Option<bool> {
    prepared?.verify(algorithm, message, tag)
}
